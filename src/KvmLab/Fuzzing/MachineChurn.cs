using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace KvmLab.Fuzzing;

/// <summary>The result of <see cref="MachineChurn.Run"/>.</summary>
/// <param name="Machines">Machines created.</param>
/// <param name="Disposed">Machines disposed explicitly.</param>
/// <param name="Dropped">Machines dropped without Dispose, left to finalizers.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="Before">Resources before (after one warm-up machine).</param>
/// <param name="After">Resources after the last machine was disposed or collected.</param>
/// <param name="Leaks">What the process still holds beyond the baseline; empty when nothing leaked.</param>
internal sealed record MachineChurnReport(int Machines, int Disposed, int Dropped, TimeSpan Elapsed, ResourceSnapshot Before, ResourceSnapshot After, IReadOnlyList<string> Leaks);

/// <summary>
/// Creates and throws away many machines, every other one without Dispose, and checks that descriptors, kvm_run and
/// guest-RAM mappings and threads all come back: the long-lived notebook kernel case, where cells build machines and
/// forget them.
/// </summary>
internal static class MachineChurn
{
    /// <summary>Creates <paramref name="machines"/> machines; collects garbage every <paramref name="collectEvery"/> dropped ones.</summary>
    public static MachineChurnReport Run(int machines, MachineOptions? options = null, int collectEvery = 200)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(machines);
        ArgumentOutOfRangeException.ThrowIfLessThan(collectEvery, 1);
        options ??= new MachineOptions();
        new Machine(options).Dispose();
        Collect();
        var before = ResourceSnapshot.Take();
        var started = Stopwatch.GetTimestamp();
        int disposed = 0, dropped = 0;
        for (int i = 0; i < machines; i++)
        {
            if (i % 2 == 0)
            {
                new Machine(options).Dispose();
                disposed++;
            }
            else
            {
                Drop(options);
                if (++dropped % collectEvery == 0)
                    Collect();
            }
        }
        Collect();
        var elapsed = Stopwatch.GetElapsedTime(started);
        var after = ResourceSnapshot.Take();
        return new MachineChurnReport(machines, disposed, dropped, elapsed, before, after, before.LeaksIn(after));
    }

    /// <summary>Runs the garbage collector and the finalizers it queues, twice (finalizers can free more).</summary>
    public static void Collect()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    // Not inlined, so no reference to the machine survives in the caller's frame.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Drop(MachineOptions options) => _ = new Machine(options);
}
