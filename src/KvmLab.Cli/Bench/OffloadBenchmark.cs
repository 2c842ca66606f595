using KvmLab.Devices;
using KvmLab.Kvm;
using KvmLab.Tracing;
using KvmLab.Guests;
using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Cli.Bench;

/// <summary>One way of serving pci-testdev's writes, and what it cost.</summary>
/// <param name="Variant">"exits" (every write traps), "ioeventfd" or "coalesced MMIO".</param>
/// <param name="Exits">KVM exits of the whole guest run, not counting the run loop's own timer kicks (KVM_EXIT_INTR).</param>
/// <param name="Milliseconds">Wall time of the run, per round.</param>
/// <param name="DeviceWrites">MMIO test writes pci-testdev itself handled (0 when an ioeventfd completed them in the kernel).</param>
/// <param name="EventFdSignals">Writes the kernel completed through an ioeventfd.</param>
internal sealed record OffloadMeasurement(string Variant, long Exits, Samples Milliseconds, uint DeviceWrites, ulong EventFdSignals);

/// <summary>
/// The exits KVM's two shortcuts save on pci-testdev: a guest selects the wildcard-eventfd test of the port BAR and
/// writes N times, then the same for the memory BAR. Run as is, each write is an exit; with
/// <see cref="MachineOptions.UseIoEventFd"/> the kernel signals an eventfd instead (QEMU registers the same one); with
/// a coalesced-MMIO zone over the memory BAR's test half, MMIO writes are queued in the ring and replayed at the next exit.
/// </summary>
internal static class OffloadBenchmark
{
    private const uint MemoryBar = (uint)PcLayout.PciMmioWindowBase;
    private const ushort IoBar = PcLayout.PciIoWindowBase;
    private const int WildcardTest = 1;

    /// <summary>Runs the three variants alternately, <paramref name="rounds"/> times, with <paramref name="writes"/> writes per BAR.</summary>
    public static IReadOnlyList<OffloadMeasurement> Run(int writes, int rounds = 3)
    {
        var image = BuildGuest(writes);
        var variants = new (string Name, MachineOptions Options, bool Coalesce)[]
        {
            ("exits", new MachineOptions(), false),
            ("ioeventfd", new MachineOptions { UseIoEventFd = true }, false),
            ("coalesced MMIO", new MachineOptions(), true),
        };
        var times = variants.Select(_ => new Samples()).ToArray();
        var last = new (long Exits, uint DeviceWrites, ulong Signals)[variants.Length];
        for (var round = 0; round < rounds; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                using var machine = Machine.Boot(image, variants[v].Options with { TraceCapacity = 4 * writes + 4096 });
                // The zone covers where the test writes go, not the test selector: selecting a test must reach the device at once.
                if (variants[v].Coalesce) machine.AddCoalescedMmio(MemoryBar + PciTestdev.MemHalf, PciTestdev.MemHalf);
                var result = machine.Run(TimeSpan.FromMinutes(1));
                if (result.Reason != StopReason.IsaDebugExit || result.ExitStatus != ((ulong)GuestAssembler.ExitSuccess << 1 | 1))
                    throw new InvalidOperationException($"The pci-testdev guest ended with {result.Reason} ({result.Detail}); serial: {machine.SerialOutput}");
                times[v].Add(result.Elapsed.TotalMilliseconds);
                last[v] = (GuestExits(machine.Trace), machine.PciTestdev!.Count, machine.IoEventFdSignals);
            }
        }
        return variants.Select((v, i) => new OffloadMeasurement(v.Name, last[i].Exits, times[i], last[i].DeviceWrites, last[i].Signals)).ToList();
    }

    // The periodic halt check interrupts KVM_RUN now and then: those exits depend on timing, not on the guest.
    private static long GuestExits(ExitTrace trace)
    {
        long n = 0;
        foreach (ref readonly var r in trace.Records())
            if (r.IsExit && r.Reason != ExitReason.Intr) n++;
        return n;
    }

    /// <summary>The guest: program pci-testdev's BARs, then N wildcard-test writes to each.</summary>
    public static GuestImage BuildGuest(int writes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writes, 1);
        var g = new GuestAssembler(CpuMode.Protected);
        var a = g.Asm;
        var slot = PcLayout.PciTestdevSlot;
        g.ConfigWrite(PciAccessMethod.Conf1, 0, slot, 0, 0x10, 4, MemoryBar);
        g.ConfigWrite(PciAccessMethod.Conf1, 0, slot, 0, 0x14, 4, IoBar);
        g.ConfigWrite(PciAccessMethod.Conf1, 0, slot, 0, 0x04, 2, 0x3);

        var pio = a.CreateLabel();
        g.PortWrite(IoBar, 1, WildcardTest);
        a.mov(ecx, writes);
        // The test's offset: the port half's start plus the test's index (3 + 1) among all six tests.
        a.mov(dx, (ushort)(IoBar + PciTestdev.IoHalf + 3 + WildcardTest));
        a.Label(ref pio);
        a.@out(dx, al);
        a.dec(ecx);
        a.jnz(pio);

        var mmio = a.CreateLabel();
        g.MmioWrite(MemoryBar, 1, WildcardTest);
        a.mov(ecx, writes);
        a.mov(edi, MemoryBar + PciTestdev.MemHalf + WildcardTest);
        a.Label(ref mmio);
        g.MmioWrite(1);
        a.dec(ecx);
        a.jnz(mmio);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        return g.Build("testdev-offload");
    }
}
