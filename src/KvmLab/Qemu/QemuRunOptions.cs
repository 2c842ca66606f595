namespace KvmLab.Qemu;

/// <summary>How <see cref="QemuRunner"/> starts QEMU.</summary>
public sealed record QemuRunOptions
{
    /// <summary>The accelerator (default KVM, like KvmLab itself).</summary>
    public QemuAccelerator Accelerator { get; init; } = QemuAccelerator.Kvm;

    /// <summary>QEMU's machine type (<c>-M</c>): "pc" (i440FX, conf1 only, as KvmLab's layout follows) or "q35" (with ECAM).</summary>
    public string MachineType { get; init; } = "pc";

    /// <summary>Add <c>-device edu</c> at 00:02.0 (<see cref="PcLayout.EduSlot"/>).</summary>
    public bool Edu { get; init; }

    /// <summary>Add <c>-device pci-testdev</c> at 00:03.0 (<see cref="PcLayout.PciTestdevSlot"/>).</summary>
    public bool PciTestdev { get; init; }

    /// <summary>Guest RAM in MiB (<c>-m</c>); KvmLab's default is <see cref="PcLayout.DefaultRamSize"/>.</summary>
    public int MemoryMiB { get; init; } = (int)(PcLayout.DefaultRamSize >> 20);

    /// <summary>Wall-clock limit; QEMU is killed when it passes and the result says so. Default
    /// <see cref="RunOptions.DefaultTimeout"/> (10 s, or KVMLAB_RUN_TIMEOUT).</summary>
    public TimeSpan Timeout { get; init; } = RunOptions.DefaultTimeout;

    /// <summary>Keep the working directory (BIOS image, serial output, trace) for inspection instead of deleting it.</summary>
    public bool KeepFiles { get; init; }
}
