using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>pio-vs-mmio: the same number of port writes and MMIO writes, to compare what each costs.</summary>
public static class PioVsMmioGuest
{
    /// <summary>Writes of each kind the library entry performs.</summary>
    public const int DefaultIterations = 1000;

    /// <summary>PCI vendor ID of pci-testdev.</summary>
    public const ushort TestdevVendorId = 0x1B36;

    /// <summary>PCI device ID of pci-testdev.</summary>
    public const ushort TestdevDeviceId = 0x0005;

    /// <summary>Where the guest places pci-testdev's memory BAR0.</summary>
    public const uint MemoryBar = (uint)PcLayout.PciMmioWindowBase;

    /// <summary>Where the guest places pci-testdev's I/O BAR1.</summary>
    public const ushort IoBar = PcLayout.PciIoWindowBase;

    /// <summary>The line the guest prints last.</summary>
    public const string FinalLine = "pio-vs-mmio: done";

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "pio-vs-mmio",
        $"{DefaultIterations} byte writes to pci-testdev's I/O BAR, then as many to its memory BAR.",
        """
        The guest assigns pci-testdev's BAR1 (I/O, 0xC000) and BAR0 (memory, 0xE0000000), enables both decodings,
        then writes a byte N times with OUT and N times with MOV to memory, each to the BAR's first register (the
        test selector; writing 0 selects test 0 and changes nothing else). Observe: exactly N KVM_EXIT_IO and N
        KVM_EXIT_MMIO exits; compare their time per exit. A port exit carries the port and data in kvm_run's io
        block; an MMIO exit carries the guest-physical address, and on hardware KVM it may first cost an EPT
        misconfiguration fault. Registering an ioeventfd for one of the addresses makes its exits disappear
        from userspace.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        mode => Build(mode, DefaultIterations));

    /// <summary>Builds pio-vs-mmio with <paramref name="iterations"/> writes of each kind.</summary>
    public static GuestImage Build(CpuMode mode, int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var notFound = a.CreateLabel();
        var pio = a.CreateLabel();
        var mmio = a.CreateLabel();
        g.FindPciDevice(PciAccessMethod.Conf1, TestdevVendorId, TestdevDeviceId, notFound);
        a.mov(ebp, eax);
        EduRegisters.EnableBar(g, 0x10, MemoryBar, 0);
        EduRegisters.EnableBar(g, 0x14, IoBar, 0x3);
        g.PrintLine($"pio-vs-mmio: pci-testdev BAR1 at port 0x{IoBar:X4}, BAR0 at 0x{MemoryBar:X8}");

        g.PrintLine($"pio-vs-mmio: {iterations} port writes");
        a.mov(ecx, iterations);
        a.mov(dx, IoBar);
        a.xor(eax, eax);
        a.Label(ref pio);
        a.@out(dx, al);
        a.dec(ecx);
        a.jnz(pio);

        g.PrintLine($"pio-vs-mmio: {iterations} MMIO writes");
        a.mov(ecx, iterations);
        a.mov(edi, MemoryBar);
        a.xor(eax, eax);
        a.Label(ref mmio);
        g.MmioWrite(1);
        a.dec(ecx);
        a.jnz(mmio);
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        EduRegisters.Fail(g, ref notFound, "pio-vs-mmio: no 1b36:0005 on bus 0");
        return g.Build("pio-vs-mmio");
    }
}
