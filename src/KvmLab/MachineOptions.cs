using KvmLab.Boards;

namespace KvmLab;

/// <summary>What a <see cref="Machine"/> is built with. The defaults give QEMU's <c>-M pc -nodefaults -m 16</c> plus
/// COM1, isa-debug-exit, edu and pci-testdev, with the in-kernel irqchip that QEMU uses under KVM.</summary>
public sealed record MachineOptions
{
    /// <summary>The board: <see cref="Boards.Board.Pc"/> (default, QEMU's <c>-M pc</c>) or <see cref="Boards.Board.Q35"/>
    /// (<c>-M q35</c>, PCI Express), or one of them with devices added or removed.</summary>
    public Board Board { get; init; } = Board.Pc;

    /// <summary>The default options on the board <paramref name="image"/> was written for (<see cref="Loading.GuestImage.Board"/>).</summary>
    public static MachineOptions For(Loading.GuestImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Board is { } board ? new MachineOptions { Board = Board.ByName(board) } : new MachineOptions();
    }

    /// <summary>The board with edu and pci-testdev left out where <see cref="Edu"/> or <see cref="PciTestdev"/> say so.</summary>
    public Board EffectiveBoard => (Edu, PciTestdev) switch
    {
        (true, true) => Board,
        (false, true) => Board.Without("edu"),
        (true, false) => Board.Without("pci-testdev"),
        _ => Board.Without("edu", "pci-testdev"),
    };

    /// <summary>Guest RAM at guest-physical 0 (default 16 MiB); must be a multiple of 4 KiB and stay below the ECAM window.</summary>
    public ulong RamSize { get; init; } = PcLayout.DefaultRamSize;

    /// <summary>
    /// Create the in-kernel PIC/IOAPIC/LAPIC (KVM_CREATE_IRQCHIP), as QEMU does by default under KVM. Needed for device
    /// interrupts. With it HLT waits in the kernel (no KVM_EXIT_HLT); the run loop notices a halted vCPU through
    /// KVM_GET_MP_STATE. Without it HLT returns KVM_EXIT_HLT to user space.
    /// </summary>
    public bool InKernelIrqchip { get; init; } = true;

    /// <summary>Keep the board's edu (00:02.0); false leaves it out.</summary>
    public bool Edu { get; init; } = true;

    /// <summary>Keep the board's pci-testdev (00:03.0); false leaves it out.</summary>
    public bool PciTestdev { get; init; } = true;

    /// <summary>When pci-testdev starts a test that QEMU serves with an ioeventfd, register one with KVM too.</summary>
    public bool UseIoEventFd { get; init; }

    /// <summary>How long edu takes to compute a factorial (QEMU: a worker thread; default 5 µs).</summary>
    public TimeSpan EduFactorialDelay { get; init; } = TimeSpan.FromMicroseconds(5);

    /// <summary>How long an edu DMA takes (QEMU: 100 ms of virtual time; default 100 µs so lessons stay quick).</summary>
    public TimeSpan EduDmaDelay { get; init; } = TimeSpan.FromMicroseconds(100);

    /// <summary>Record every exit in <see cref="Machine.Trace"/> (default on).</summary>
    public bool Tracing { get; init; } = true;

    /// <summary>
    /// Trace records to reserve up front so that a run of that many exits allocates nothing; the trace keeps the
    /// reservation. Without one (0, the default) the trace is trimmed to 48 bytes per record when a run ends.
    /// </summary>
    public int TraceCapacity { get; init; }

    /// <summary>Where the guest's COM1 output is echoed as it is written (in addition to <see cref="Machine.SerialOutput"/>).</summary>
    public TextWriter? SerialEcho { get; init; }

    /// <summary>
    /// With an in-kernel irqchip, how often the run loop looks whether a vCPU that produced no exit is halted
    /// (default 10 ms). It bounds how late a final HLT is noticed.
    /// </summary>
    public TimeSpan HaltCheckInterval { get; init; } = TimeSpan.FromMilliseconds(10);
}
