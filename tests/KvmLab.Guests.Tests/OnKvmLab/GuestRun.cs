using KvmLab.Loading;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.OnKvmLab;

/// <summary>One guest run to its end on KvmLab's own machine, with the questions the tests ask of its trace.</summary>
public sealed class GuestRun : IDisposable
{
    public const ulong SuccessStatus = GuestAssembler.ExitSuccess << 1 | 1;

    private GuestRun(Machine machine, RunResult result)
    {
        Machine = machine;
        Result = result;
        Registers = TraceStatistics.Compute(machine.Trace, StatGrouping.Register).ToDictionary(r => r.Key, r => r.Count);
        Reasons = TraceStatistics.Compute(machine.Trace, StatGrouping.Reason).ToDictionary(r => r.Key, r => r.Count);
    }

    public Machine Machine { get; }

    public RunResult Result { get; }

    public string Serial => Machine.SerialOutput;

    /// <summary>Accesses per device.register, from <see cref="TraceStatistics"/>.</summary>
    public IReadOnlyDictionary<string, long> Registers { get; }

    /// <summary>KVM exits per exit reason, from <see cref="TraceStatistics"/>.</summary>
    public IReadOnlyDictionary<string, long> Reasons { get; }

    public static GuestRun Of(GuestImage image, MachineOptions? options = null)
    {
        var machine = Machine.Boot(image, options);
        return new GuestRun(machine, machine.Run(TestScale.Bound(TimeSpan.FromSeconds(20))));
    }

    public long Accesses(string target) => Registers.GetValueOrDefault(target);

    public long Exits(string reason) => Reasons.GetValueOrDefault(reason);

    /// <summary>The records of <paramref name="target"/> with <paramref name="access"/>, in order.</summary>
    public IReadOnlyList<ResolvedExit> Records(string target, TraceAccess access) =>
        Enumerable.Range(0, Machine.Trace.Count).Select(Machine.Trace.Resolve)
            .Where(r => r.Target == target && r.Record.Access == access).ToList();

    public void AssertSucceeded()
    {
        Assert.True(Result.Reason == StopReason.IsaDebugExit && Result.ExitStatus == SuccessStatus,
            $"{Result}\nserial:\n{Serial}");
        Assert.Equal(1, Accesses("isa-debug-exit.exit"));
    }

    /// <summary>The UART is always ready, so every byte is one LSR poll and one THR write.</summary>
    public void AssertOnePollPerCharacter()
    {
        Assert.Equal(Serial.Length, Accesses("serial.RBR/THR"));
        Assert.Equal(Serial.Length, Accesses("serial.LSR"));
    }

    public void Dispose() => Machine.Dispose();
}
