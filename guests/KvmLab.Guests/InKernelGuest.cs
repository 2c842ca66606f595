using KvmLab.Loading;

namespace KvmLab.Guests;

/// <summary>in-kernel: port writes KVM answers inside the kernel beside ones it returns to user space for.</summary>
public static class InKernelGuest
{
    /// <summary>The line the guest prints last on success.</summary>
    public const string FinalLine = "in-kernel: done";

    /// <summary>How many times the guest writes the PIT's mode/command register (port 0x43).</summary>
    public const int PitWrites = 10;

    /// <summary>How many times the guest writes the master PIC's mask register (port 0x21).</summary>
    public const int PicWrites = 4;

    /// <summary>How many times the guest reads the local APIC's version register (0xFEE00030).</summary>
    public const int LapicReads = 3;

    /// <summary>How many times the guest writes the local APIC's EOI register (0xFEE000B0).</summary>
    public const int LapicEoiWrites = 2;

    /// <summary>How many times the guest writes port 0x80 (no in-kernel device; in user space the "ioport80" region, as on QEMU).</summary>
    public const int Port80Writes = 3;

    /// <summary>How many times the guest writes <see cref="UnbackedAddress"/>.</summary>
    public const int UnbackedWrites = 2;

    /// <summary>PIT mode/command port.</summary>
    public const ushort PitCommandPort = 0x43;

    /// <summary>The master PIC's data port (OCW1, the interrupt mask).</summary>
    public const ushort PicMaskPort = 0x21;

    /// <summary>The local APIC's version register.</summary>
    public const ulong LapicVersion = PcLayout.LocalApicBase + 0x30;

    /// <summary>The local APIC's end-of-interrupt register.</summary>
    public const ulong LapicEoi = PcLayout.LocalApicBase + 0xB0;

    /// <summary>The POST-code port.</summary>
    public const ushort Port80 = 0x80;

    /// <summary>An address in the PCI MMIO window that no memory slot backs and no BAR claims.</summary>
    public const ulong UnbackedAddress = PcLayout.PciMmioWindowBase + 0x0800_0000;

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "in-kernel",
        "Touches the in-kernel PIT, PIC and local APIC, then port 0x80 and an unbacked MMIO page: which exits reach user space?",
        """
        With the in-kernel irqchip and PIT (KvmLab's default, as QEMU's), an OUT to the PIT's port 0x43 or the PIC's mask
        port 0x21 is an exit KVM takes and finishes itself: kernel_pio() finds the device on KVM_PIO_BUS
        (arch/x86/kvm/x86.c, kvm_io_bus_write in virt/kvm/kvm_main.c) and the vCPU re-enters the guest without KVM_RUN
        returning. So is a read of the local APIC's version register or a write of its EOI register: vcpu_mmio_read /
        vcpu_mmio_write offer the access to the in-kernel LAPIC first. Port 0x80 has no in-kernel device, so each write
        returns to user space as KVM_EXIT_IO; so does each MMIO write to 0xE8000000, which no memory slot backs, as
        KVM_EXIT_MMIO. Observe with `kvmlab run in-kernel --kernel-stats`: KvmLab's trace holds 3 + 2 guest accesses
        (besides the serial output), while the vCPU's kernel counters (KVM_GET_STATS_FD) show the exits the kernel took,
        the PIT's ten and the PIC's four included, on hardware KVM as io_exits. With --no-irqchip every one of them
        reaches user space.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        Build);

    /// <summary>Builds in-kernel for protected or long mode.</summary>
    public static GuestImage Build(CpuMode mode)
    {
        if (mode == CpuMode.Real)
            throw new ArgumentException("in-kernel runs in protected or long mode: real mode cannot reach 0xE8000000.", nameof(mode));
        var g = new GuestAssembler(mode);
        // Channel 0, low then high byte, mode 2 (rate generator), binary: a control word the PIT accepts every time.
        for (var i = 0; i < PitWrites; i++)
            g.PortWrite(PitCommandPort, 1, 0x34);
        for (var i = 0; i < PicWrites; i++)
            g.PortWrite(PicMaskPort, 1, 0xFF); // every IRQ line masked: nothing interrupts the guest
        for (var i = 0; i < LapicReads; i++)
            g.MmioRead(LapicVersion, 4);
        for (var i = 0; i < LapicEoiWrites; i++)
            g.MmioWrite(LapicEoi, 4, 0);
        for (var i = 0; i < Port80Writes; i++)
            g.PortWrite(Port80, 1, (uint)i);
        for (var i = 0; i < UnbackedWrites; i++)
            g.MmioWrite(UnbackedAddress, 4, (ulong)i);
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        return g.Build("in-kernel");
    }
}
