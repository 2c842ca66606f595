namespace KvmLab.Qemu;

/// <summary>How <see cref="QemuRunner"/> starts QEMU.</summary>
public sealed record QemuRunOptions
{
    /// <summary>The accelerator (default KVM, like KvmLab itself).</summary>
    public QemuAccelerator Accelerator { get; init; } = QemuAccelerator.Kvm;

    /// <summary>The board: QEMU gets its machine type (<c>-M</c>) and one <c>-device</c> per device that is not
    /// built into that machine type (default <see cref="Boards.Board.Pc"/>, with edu and pci-testdev).</summary>
    public Boards.Board Board { get; init; } = Boards.Board.Pc;


    /// <summary>Guest RAM in MiB (<c>-m</c>); KvmLab's default is <see cref="PcLayout.DefaultRamSize"/>.</summary>
    public int MemoryMiB { get; init; } = (int)(PcLayout.DefaultRamSize >> 20);

    /// <summary>Wall-clock limit; QEMU is killed when it passes and the result says so. Default
    /// <see cref="RunOptions.DefaultTimeout"/> (10 s, or KVMLAB_RUN_TIMEOUT).</summary>
    public TimeSpan Timeout { get; init; } = RunOptions.DefaultTimeout;

    /// <summary>Keep the working directory (BIOS image, serial output, trace) for inspection instead of deleting it.</summary>
    public bool KeepFiles { get; init; }
}
