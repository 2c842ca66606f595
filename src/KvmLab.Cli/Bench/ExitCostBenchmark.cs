using System.Diagnostics;
using KvmLab.Kvm;
using KvmLab.Loading;

namespace KvmLab.Cli.Bench;

/// <summary>Nanoseconds per exit of every way of taking one exit, for one kind of exit.</summary>
/// <param name="C">The raw C KVM_RUN loop (the reference).</param>
/// <param name="Vcpu">A bare <see cref="Kvm.Vcpu.Run"/> loop.</param>
/// <param name="MachineRun">A <see cref="Machine"/> running the guest with <see cref="Machine.Run(RunOptions?)"/>, tracing on.</param>
/// <param name="MachineStep">The same machine driven one <see cref="Machine.Step"/> at a time.</param>
/// <param name="KernelStep">The same machine driven one <see cref="KernelStats.Step"/> at a time: a step plus the
/// vCPU's kernel counters read before and after it (the price of asking; a plain Step does not pay it).</param>
internal sealed record ExitCosts(Samples C, Samples Vcpu, Samples MachineRun, Samples MachineStep, Samples KernelStep);

/// <summary>What the exit-cost rounds measured.</summary>
/// <param name="Exits">Exits per round and variant (after a 10% warm-up).</param>
/// <param name="Rounds">Rounds per variant.</param>
/// <param name="Pio">Port I/O exits (<c>out dx,al</c> to the conf1 data port 0xCFC).</param>
/// <param name="Mmio">MMIO exits (a byte store to 0x100000, just past RAM).</param>
/// <param name="AllocatedBytesPerExit">Managed bytes <see cref="Machine.Run(RunOptions?)"/> allocates per additional exit, trace reserved (goal 0).</param>
/// <param name="AllocatedBytesPerRun">Managed bytes one <see cref="Machine.Run(RunOptions?)"/> call allocates regardless of its length.</param>
internal sealed record ExitCostResult(long Exits, int Rounds, ExitCosts Pio, ExitCosts Mmio,
    double AllocatedBytesPerExit, long AllocatedBytesPerRun);

/// <summary>
/// Measures the cost of one exit through KvmLab against <c>native/kvm_exit_loop.c</c> (compiled with gcc into a
/// temporary directory). All variants run the same real-mode bytes from the same address in 1 MiB of RAM, in VMs with
/// the in-kernel irqchip and PIT a default Machine has; the C loop
/// and the bare vCPU loop read the exit and RIP from kvm_run, the machine additionally dispatches each exit through its
/// address spaces to the PCI host (port) or to nothing (MMIO past RAM) and traces it. Variants alternate within every
/// round so that load from other processes lands on all of them alike.
/// </summary>
internal static class ExitCostBenchmark
{
    private const ulong RamSize = 1UL << 20;

    // The bytes of the C file: see its comments.
    private static readonly byte[] PioGuest = [0xBA, 0xFC, 0x0C, 0xEE, 0xEB, 0xFD];
    private static readonly byte[] MmioGuest = [0xB8, 0xFF, 0xFF, 0x8E, 0xD8, 0xA2, 0x10, 0x00, 0xEB, 0xFB];

    /// <summary>Runs <paramref name="rounds"/> rounds of every variant, <paramref name="exits"/> exits each.</summary>
    public static ExitCostResult Run(NativeReference native, long exits = 100_000, int rounds = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exits, 10);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var pio = new ExitCosts(new Samples(), new Samples(), new Samples(), new Samples(), new Samples());
        var mmio = new ExitCosts(new Samples(), new Samples(), new Samples(), new Samples(), new Samples());
        // Room for the warm-up, one round, and the two allocation runs, so that no run grows the trace.
        var capacity = (int)(exits * 3);
        using var pioMachine = BootMachine(PioGuest, capacity);
        using var mmioMachine = BootMachine(MmioGuest, capacity);
        WarmUp(pioMachine, exits / 10);
        WarmUp(mmioMachine, exits / 10);
        for (int round = 0; round < rounds; round++)
        {
            RunRound(native, "pio", PioGuest, ExitReason.Io, pioMachine, exits, pio);
            RunRound(native, "mmio", MmioGuest, ExitReason.Mmio, mmioMachine, exits, mmio);
        }

        // Two runs of different lengths: the difference is what each additional exit allocates, the rest is per call.
        pioMachine.Trace.Clear();
        long shortRun = AllocatedByRun(pioMachine, exits / 2);
        long longRun = AllocatedByRun(pioMachine, exits);
        double perExit = (double)(longRun - shortRun) / (exits - exits / 2);
        long perRun = shortRun - (long)Math.Round(perExit * (exits / 2));
        return new ExitCostResult(exits, rounds, pio, mmio, perExit, perRun);
    }

    private static void RunRound(NativeReference native, string variant, byte[] guest, ExitReason expected, Machine machine, long exits, ExitCosts into)
    {
        into.C.Add(native.ExitNanoseconds(variant, exits));
        into.Vcpu.Add(RunVcpu(guest, expected, exits));
        into.MachineRun.Add(RunMachine(machine, exits));
        into.MachineStep.Add(StepMachine(machine, exits));
        into.KernelStep.Add(StepMachine(machine, exits, withKernelStats: true));
    }

    private static Machine BootMachine(byte[] guest, int traceCapacity)
    {
        var options = new MachineOptions { RamSize = RamSize, TraceCapacity = traceCapacity };
        return Machine.Boot(Image(guest), options);
    }

    private static GuestImage Image(byte[] guest) => new("exit-loop", guest, PcLayout.DefaultRealModeLoadAddress,
        PcLayout.DefaultRealModeLoadAddress, CpuMode.Real);

    private static void WarmUp(Machine machine, long exits)
    {
        RunMachine(machine, exits);
        StepMachine(machine, exits);
        StepMachine(machine, exits, withKernelStats: true);
    }

    private static double RunMachine(Machine machine, long exits)
    {
        machine.Trace.Clear();
        var result = machine.Run(new RunOptions { MaxExits = exits, Timeout = TimeSpan.FromMinutes(1) });
        if (result.Reason != StopReason.ExitLimit)
            throw new InvalidOperationException($"The benchmark machine stopped with {result.Reason} ({result.Detail}) instead of running {exits} exits.");
        return result.Elapsed.TotalNanoseconds / result.Exits;
    }

    private static double StepMachine(Machine machine, long exits, bool withKernelStats = false)
    {
        machine.Trace.Clear();
        _ = machine.KernelStats.Vcpu; // opened before the clock starts, as a notebook would have it
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; i < exits; i++)
        {
            if (withKernelStats) machine.KernelStats.Step();
            else machine.Step();
            if (machine.LastStop != StopReason.Stepped && machine.LastStop != null)
                throw new InvalidOperationException($"The benchmark machine stopped with {machine.LastStop} while stepping.");
        }
        return Stopwatch.GetElapsedTime(start).TotalNanoseconds / exits;
    }

    private static long AllocatedByRun(Machine machine, long exits)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = machine.Run(new RunOptions { MaxExits = exits, Timeout = TimeSpan.FromMinutes(1) });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (result.Reason != StopReason.ExitLimit)
            throw new InvalidOperationException($"The benchmark machine stopped with {result.Reason} ({result.Detail}).");
        return allocated;
    }

    private static double RunVcpu(byte[] guest, ExitReason expected, long exits)
    {
        using var host = new KvmSystem();
        using var vm = host.CreateVm();
        // The same VM configuration as the C loop and a default Machine.
        vm.CreateIrqchip();
        vm.CreatePit2();
        var ram = vm.AllocateGuestMemory(0, RamSize);
        var vcpu = vm.CreateVcpu(0);
        if (!vcpu.HasSyncRegs)
            throw new InvalidOperationException("KVM_CAP_SYNC_REGS is missing: the benchmark reads RIP from kvm_run's sync regs.");
        GuestLoader.Load(vm, ram, vcpu, Image(guest));

        ulong checksum = Loop(vcpu, expected, exits / 10);
        long start = Stopwatch.GetTimestamp();
        checksum += Loop(vcpu, expected, exits);
        double elapsedNs = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        GC.KeepAlive(checksum);
        return elapsedNs / exits;
    }

    private static ulong Loop(Vcpu vcpu, ExitReason expected, long exits)
    {
        ulong checksum = 0;
        for (long i = 0; i < exits; i++)
        {
            var exit = vcpu.Run();
            if (exit.Reason != expected)
                throw new InvalidOperationException($"The benchmark guest exited with {exit}, expected {expected}.");
            checksum += vcpu.Rip;
        }
        return checksum;
    }
}
