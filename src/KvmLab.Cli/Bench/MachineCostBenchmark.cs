using System.Diagnostics;
using KvmLab.Kvm;

namespace KvmLab.Cli.Bench;

/// <summary>What building and disposing a machine costs, as a whole and step by step.</summary>
/// <param name="CreateDispose">Milliseconds for <c>new Machine()</c> + <c>Dispose()</c> with default options, per round.</param>
/// <param name="CreateDisposeNoIrqchip">The same with <see cref="MachineOptions.InKernelIrqchip"/> off.</param>
/// <param name="C">The C reference making the same kernel calls as a default Machine, per round, warm and many in one process.</param>
/// <param name="CNoIrqchip">The C reference without the in-kernel irqchip and PIT.</param>
/// <param name="Phases">Milliseconds per phase of the same sequence done by hand (the host calls a Machine makes).</param>
internal sealed record MachineCostResult(Samples CreateDispose, Samples CreateDisposeNoIrqchip, Samples C, Samples CNoIrqchip,
    IReadOnlyList<(string Phase, Samples Milliseconds)> Phases);

/// <summary>
/// Times <c>new Machine()</c> + <c>Dispose()</c>, then repeats what the constructor asks of the kernel one call at a
/// time (open /dev/kvm, KVM_CREATE_VM, KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, the TSS and identity-map pages, 16 MiB of
/// guest RAM, KVM_CREATE_VCPU with its kvm_run mapping and CPUID) so that the report shows which one dominates, and
/// times the C reference making the same calls, with and without the in-kernel irqchip. Both are measured alike: a
/// first untimed create, then many in one process. They alternate in blocks of rounds (one C process per block), so
/// that load from other processes lands on both.
/// </summary>
internal static class MachineCostBenchmark
{
    private static readonly string[] PhaseNames =
    [
        "open /dev/kvm", "KVM_CREATE_VM", "KVM_CREATE_IRQCHIP", "KVM_CREATE_PIT2", "TSS + identity map",
        "guest RAM (mmap + slot)", "KVM_CREATE_VCPU (+ mmap, CPUID)", "dispose (close fds, munmap)",
    ];

    /// <summary>Runs <paramref name="rounds"/> rounds of both.</summary>
    public static MachineCostResult Run(NativeReference native, int rounds = 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var noIrqchip = new MachineOptions { InKernelIrqchip = false };
        // The first machine of a process pays for JIT and type loading: not what this figure is about.
        new Machine().Dispose();
        new Machine(noIrqchip).Dispose();
        var whole = new Samples();
        var wholeNoIrqchip = new Samples();
        var c = new Samples();
        var cNoIrqchip = new Samples();
        var phases = PhaseNames.Select(_ => new Samples()).ToArray();
        const int block = 5;
        for (var first = 0; first < rounds; first += block)
        {
            var n = Math.Min(block, rounds - first);
            for (var round = 0; round < n; round++) whole.Add(CreateAndDispose(null));
            foreach (var ms in native.CreateDisposeMilliseconds(irqchip: true, n)) c.Add(ms);
            for (var round = 0; round < n; round++) wholeNoIrqchip.Add(CreateAndDispose(noIrqchip));
            foreach (var ms in native.CreateDisposeMilliseconds(irqchip: false, n)) cNoIrqchip.Add(ms);
            for (var round = 0; round < n; round++) ByHand(phases);
        }
        return new MachineCostResult(whole, wholeNoIrqchip, c, cNoIrqchip, PhaseNames.Zip(phases, (n, s) => (n, s)).ToList());
    }

    private static double CreateAndDispose(MachineOptions? options)
    {
        var start = Stopwatch.GetTimestamp();
        new Machine(options).Dispose();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static void ByHand(Samples[] phases)
    {
        var i = 0;
        var t = Stopwatch.GetTimestamp();
        void Lap()
        {
            var now = Stopwatch.GetTimestamp();
            phases[i++].Add(Stopwatch.GetElapsedTime(t, now).TotalMilliseconds);
            t = now;
        }

        var host = new KvmSystem();
        Lap();
        var vm = host.CreateVm();
        Lap();
        vm.CreateIrqchip();
        Lap();
        vm.CreatePit2();
        Lap();
        vm.SetIdentityMapAddress();
        vm.SetTssAddress();
        Lap();
        vm.AllocateGuestMemory(0, PcLayout.DefaultRamSize);
        Lap();
        vm.CreateVcpu(0);
        Lap();
        vm.Dispose();
        host.Dispose();
        Lap();
    }
}
