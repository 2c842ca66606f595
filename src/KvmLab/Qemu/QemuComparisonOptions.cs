namespace KvmLab.Qemu;

/// <summary>How <see cref="QemuComparison.Run"/> runs the guest on both sides.</summary>
public sealed record QemuComparisonOptions
{
    /// <summary>QEMU's accelerator (default KVM, like KvmLab; TCG where the host's KVM cannot run the guest under QEMU).</summary>
    public QemuAccelerator Accelerator { get; init; } = QemuAccelerator.Kvm;

    /// <summary>
    /// KvmLab's machine (default: <see cref="MachineOptions.For"/> the image: the board the guest was written for, with
    /// edu and pci-testdev). QEMU gets the same board (<see cref="MachineOptions.EffectiveBoard"/>: machine type and
    /// devices) and RAM (<see cref="MachineOptions.RamSize"/>).
    /// </summary>
    public MachineOptions? Machine { get; init; }

    /// <summary>Wall-clock limit for each side: twice <see cref="RunOptions.DefaultTimeout"/> (20 s, or twice
    /// KVMLAB_RUN_TIMEOUT where the CPU is emulated and QEMU needs more).</summary>
    public TimeSpan Timeout { get; init; } = RunOptions.DefaultTimeout * 2;

    /// <summary>Explicit path of qemu-system-x86_64 (default: found on PATH).</summary>
    public string? QemuPath { get; init; }
}
