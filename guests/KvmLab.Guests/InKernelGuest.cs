using KvmLab.Loading;

namespace KvmLab.Guests;

/// <summary>in-kernel: port writes KVM answers inside the kernel beside ones it returns to user space for.</summary>
public static class InKernelGuest
{
    /// <summary>The line the guest prints last on success.</summary>
    public const string FinalLine = "in-kernel: done";

    /// <summary>How many times the guest writes the PIT's mode/command register (port 0x43).</summary>
    public const int PitWrites = 10;

    /// <summary>How many times the guest writes port 0x80 (no device in KvmLab's user space claims it).</summary>
    public const int Port80Writes = 3;

    /// <summary>How many times the guest writes <see cref="UnbackedAddress"/>.</summary>
    public const int UnbackedWrites = 2;

    /// <summary>PIT mode/command port.</summary>
    public const ushort PitCommandPort = 0x43;

    /// <summary>The POST-code port.</summary>
    public const ushort Port80 = 0x80;

    /// <summary>An address in the PCI MMIO window that no memory slot backs and no BAR claims.</summary>
    public const ulong UnbackedAddress = PcLayout.PciMmioWindowBase + 0x0800_0000;

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "in-kernel",
        "Writes the in-kernel PIT ten times, port 0x80 three times and an unbacked MMIO address twice: which exits reach user space?",
        """
        With the in-kernel irqchip and PIT (KvmLab's default, as QEMU's), an OUT to the PIT's port 0x43 is an exit KVM
        takes and finishes itself: kernel_pio() finds the i8254 on KVM_PIO_BUS (arch/x86/kvm/x86.c, kvm_io_bus_write in
        virt/kvm/kvm_main.c) and the vCPU re-enters the guest without KVM_RUN returning. Port 0x80 has no in-kernel
        device, so each write returns to user space as KVM_EXIT_IO; so does each MMIO write to 0xE8000000, which no
        memory slot backs, as KVM_EXIT_MMIO. Observe with `kvmlab run in-kernel --kernel-stats`: KvmLab's trace holds
        3 + 2 guest accesses (besides the serial output), while the vCPU's kernel counters (KVM_GET_STATS_FD) show the
        exits the kernel took, the PIT's ten included, on hardware KVM as io_exits.
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
        for (var i = 0; i < Port80Writes; i++)
            g.PortWrite(Port80, 1, (uint)i);
        for (var i = 0; i < UnbackedWrites; i++)
            g.MmioWrite(UnbackedAddress, 4, (ulong)i);
        g.PrintLine(FinalLine);
        g.DebugExit(GuestAssembler.ExitSuccess);
        return g.Build("in-kernel");
    }
}
