using System.Diagnostics;
using KvmLab.Devices;
using KvmLab.Kvm;
using KvmLab.Pci;

namespace KvmLab.Cli.Bench;

/// <summary>One kind of exit through the run loop's dispatch.</summary>
/// <param name="Key">JSON key part: pio_write, mmio_read, coalesced, msi, debug...</param>
/// <param name="Label">What the exit is, for the table.</param>
/// <param name="Traced">Whether the machine traced it (<see cref="MachineOptions.Tracing"/>, trace reserved).</param>
/// <param name="Nanoseconds">Nanoseconds per exit, one value per round.</param>
/// <param name="AllocatedBytes">Managed bytes the measured rounds allocated, all of them together.</param>
/// <param name="Exits">Exits the measured rounds dispatched, all of them together.</param>
internal sealed record DispatchCase(string Key, string Label, bool Traced, Samples Nanoseconds, long AllocatedBytes, long Exits)
{
    /// <summary>Allocated bytes per exit over every measured round.</summary>
    public double BytesPerExit => (double)AllocatedBytes / Exits;

    /// <summary>Whether the goal of 50 ns applies (the four plain accesses; the others are checked for bytes only).</summary>
    public bool TimeGoal => Key is "pio_write" or "pio_read" or "mmio_write" or "mmio_read";
}

/// <summary>The dispatch cases and what one clock read costs here.</summary>
/// <param name="Cases">Every case, traced and not.</param>
/// <param name="ClockRead">Nanoseconds per <see cref="Stopwatch.GetTimestamp"/>, per round: the loop reads the clock
/// twice per exit (KVM_RUN returned; handling done, which is also the next KVM_RUN's entry), a floor under every case
/// that depends on the host (a few ns on bare metal, tens in a nested VM).</param>
internal sealed record DispatchResult(IReadOnlyList<DispatchCase> Cases, Samples ClockRead);

/// <summary>
/// The run loop's work for one exit after KVM_RUN has returned, without KVM: decode of a prepared kvm_run, the
/// address-space lookup, the device access, the read completed into kvm_run, the trace record and the exit count.
/// A detached machine (<see cref="Machine"/>.CreateDetached: the default board, no VM, kvm_run in plain memory) runs
/// the same Dispatch code a real exit goes through, so the figures hold on any backend and on a machine without
/// /dev/kvm.
/// <para>
/// An own harness rather than BenchmarkDotNet: BenchmarkDotNet, even with its in-process toolchain, runs pilot,
/// warm-up and many workload stages of its own per case, which takes tens of seconds for each of the fourteen cases
/// here and would put its package and reports into the kvmlab tool. The harness does what matters for these
/// figures: a warm-up long enough for tiered compilation to reach its optimized code, alternating rounds over all
/// cases (load from other processes spreads over all of them), min and median of the rounds, and bytes from
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> around every measured round.
/// </para>
/// </summary>
internal static class DispatchBenchmark
{
    // BAR0 of edu, inside the PCI MMIO window; the MSI address is the local APIC's.
    private const ulong EduBar = 0xE000_0000;
    private const ulong MsiAddress = 0xFEE0_0000;
    private const ulong Rip = 0x10000;

    private sealed record Case(string Key, string Label, Action<Vcpu> Prepare, bool PrepareEveryExit, bool Coalesced, StopReason? Expected);

    private static readonly Case[] Cases =
    [
        new("pio_write", "PIO write (out 0xcf8, PCI host CONFIG_ADDRESS)",
            v => v.PrepareIo(IoDirection.Out, PcLayout.PciConfigAddressPort, 4, Conf1Address(PciConfig.VendorId), Rip), false, false, null),
        new("pio_read", "PIO read (in 0xcfc, edu's vendor/device ID)",
            v => v.PrepareIo(IoDirection.In, PcLayout.PciConfigDataPort, 4, 0, Rip), false, false, null),
        new("mmio_write", "MMIO write (edu LIVENESS)",
            v => v.PrepareMmio(true, EduBar + Edu.RegLiveness, 4, 0x1234_5678, Rip), false, false, null),
        new("mmio_read", "MMIO read (edu IDENTIFICATION)",
            v => v.PrepareMmio(false, EduBar + Edu.RegIdentification, 4, 0, Rip), false, false, null),
        new("coalesced", "coalesced replay (one queued edu write, then a PIO write exit)",
            v =>
            {
                v.PrepareCoalesced(EduBar + Edu.RegLiveness, 4, 0xCAFE, isPio: false);
                v.PrepareIo(IoDirection.Out, PcLayout.PciConfigAddressPort, 4, Conf1Address(PciConfig.VendorId), Rip);
            }, true, true, null),
        new("msi", "MMIO write raising an MSI (edu INTERRUPT_RAISE)",
            v => v.PrepareMmio(true, EduBar + Edu.RegInterruptRaise, 4, 1, Rip), false, false, null),
        new("debug", "debug exit (KVM_EXIT_DEBUG)",
            v => v.PrepareDebug(1, Rip, 0xFFFF_4FF0, 0x400), false, false, StopReason.Debug),
    ];

    /// <summary>Every case with and without tracing: <paramref name="rounds"/> rounds of <paramref name="exits"/> exits each.</summary>
    public static DispatchResult Run(int exits = 20_000, int rounds = 15, TimeSpan? warmUp = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var variants = new List<(Case Case, bool Traced, Machine Machine, Samples Ns, long[] Bytes)>();
        try
        {
            foreach (var traced in new[] { true, false })
            {
                foreach (var c in Cases)
                {
                    var machine = Machine.CreateDetached(new MachineOptions { Tracing = traced, TraceCapacity = traced ? exits * 2 : 0 }, c.Coalesced);
                    variants.Add((c, traced, machine, new Samples(), new long[1]));
                    Configure(machine);
                    c.Prepare(machine.Vcpu);
                }
            }

            // Tiered compilation promotes hot methods to optimized code in the background some 100 ms after they
            // got hot; rounds before that would time unoptimized code.
            var warmUntil = Stopwatch.GetTimestamp() + (long)((warmUp ?? TimeSpan.FromSeconds(1)).TotalSeconds * Stopwatch.Frequency);
            do
            {
                foreach (var v in variants) Round(v.Case, v.Machine, Math.Max(1, exits / 4));
            }
            while (Stopwatch.GetTimestamp() < warmUntil);

            var clock = new Samples();
            for (var round = 0; round < rounds; round++)
            {
                clock.Add(ClockRead(exits));
                foreach (var v in variants)
                {
                    var (ns, bytes) = Round(v.Case, v.Machine, exits);
                    v.Ns.Add(ns);
                    v.Bytes[0] += bytes;
                }
            }
            CheckDeviceSawEveryExit(variants.Select(v => (v.Case, v.Machine)).ToList());
            return new DispatchResult(
                variants.Select(v => new DispatchCase(v.Case.Key, v.Case.Label, v.Traced, v.Ns, v.Bytes[0], (long)exits * rounds)).ToList(), clock);
        }
        finally
        {
            foreach (var v in variants) v.Machine.Dispose();
        }
    }

    private static (double Nanoseconds, long Bytes) Round(Case c, Machine machine, int exits)
    {
        machine.Trace.Clear();
        var vcpu = machine.Vcpu;
        var expected = c.Expected;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < exits; i++)
        {
            if (c.PrepareEveryExit) c.Prepare(vcpu);
            if (machine.DispatchPreparedExit() != expected)
                throw new InvalidOperationException($"dispatch of a prepared {c.Label} stopped with {machine.LastStop?.ToString() ?? "something else"}, expected {expected?.ToString() ?? "no stop"}");
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return (elapsed.TotalNanoseconds / exits, bytes);
    }

    private static double ClockRead(int reads)
    {
        long sum = 0;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < reads; i++) sum += Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(start);
        GC.KeepAlive(sum);
        return elapsed.TotalNanoseconds / reads;
    }

    /// <summary>What the guest would do first: place edu's BAR0, enable memory decoding and bus mastering, program MSI.</summary>
    private static void Configure(Machine machine)
    {
        var edu = machine.Edu ?? throw new InvalidOperationException("the default board has no edu");
        ConfigWrite(machine, PciConfig.Command, 2, PciConfig.CommandMemory | PciConfig.CommandBusMaster);
        ConfigWrite(machine, 0x10, 4, (uint)EduBar);
        var cap = edu.MsiCapabilityOffset;
        ConfigWrite(machine, cap + 4, 4, (uint)MsiAddress);
        ConfigWrite(machine, cap + 8, 4, 0);
        ConfigWrite(machine, cap + 12, 2, 0x4041);
        ConfigWrite(machine, cap + 2, 2, 1);
        // CONFIG_ADDRESS left at edu's ID dword: the PIO read reads it.
        machine.Io.Write(PcLayout.PciConfigAddressPort, 4, Conf1Address(PciConfig.VendorId));
        if (edu.Bars[0]?.MappedAddress != EduBar || !edu.MsiEnabled)
            throw new InvalidOperationException("edu did not take its BAR or MSI setup");
    }

    private static void ConfigWrite(Machine machine, int offset, int size, uint value)
    {
        machine.Io.Write(PcLayout.PciConfigAddressPort, 4, Conf1Address(offset));
        machine.Io.Write((ulong)(PcLayout.PciConfigDataPort + (offset & 3)), size, value);
    }

    private static ulong Conf1Address(int offset) => 0x8000_0000u | (uint)PcLayout.EduSlot << 11 | (uint)(offset & 0xFC);

    /// <summary>The figures are only worth something if every dispatch reached the device it names.</summary>
    private static void CheckDeviceSawEveryExit(List<(Case Case, Machine Machine)> variants)
    {
        foreach (var (c, machine) in variants)
        {
            var last = machine.LastRecord;
            var device = c.Key switch
            {
                "pio_write" or "pio_read" or "coalesced" => "i440FX-pcihost",
                "mmio_write" or "mmio_read" or "msi" => "edu",
                _ => null,
            };
            if (device is not null && last.Device != device)
                throw new InvalidOperationException($"dispatch of a prepared {c.Label} reached {last.Device ?? "nothing"}, not {device}");
            if (c.Key == "mmio_read" && last.Record.Value != Edu.Identification)
                throw new InvalidOperationException($"edu's identification read as 0x{last.Record.Value:x}");
            if (c.Key == "msi" && machine.Interrupts.Dropped < machine.ExitCount)
                throw new InvalidOperationException($"edu raised {machine.Interrupts.Dropped} MSIs in {machine.ExitCount} exits");
        }
    }
}
