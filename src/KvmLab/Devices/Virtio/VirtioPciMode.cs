namespace KvmLab.Devices.Virtio;

/// <summary>Which virtio-pci function QEMU 7.2 builds.</summary>
internal enum VirtioPciMode
{
    /// <summary>
    /// Legacy and modern interfaces on a conventional (or root-bus) function: 1af4:1000+n, revision 0, subsystem
    /// 1af4:virtio-ID, BAR0 legacy I/O. What <c>-device virtio-rng-pci</c> on q35's pcie.0 gives.
    /// </summary>
    Transitional,

    /// <summary>
    /// disable-legacy=on, as QEMU chooses it for a function behind a PCI Express root port: a PCI Express endpoint
    /// 1af4:1040+ID, revision 1, default subsystem 1af4:1100, no legacy BAR; the PCI Express capability at 0x40 and
    /// power management at 0x7c come before the virtio capabilities, and initiate-FLR resets the function.
    /// </summary>
    ModernOnlyBehindRootPort,
}
