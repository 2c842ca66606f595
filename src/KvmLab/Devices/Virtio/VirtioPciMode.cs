namespace KvmLab.Devices.Virtio;

/// <summary>Which virtio-pci function QEMU 7.2 builds.</summary>
public enum VirtioPciMode
{
    /// <summary>
    /// Legacy and modern interfaces on a conventional (or root-bus) function: 1af4:1000+n, revision 0, subsystem
    /// 1af4:virtio-ID, BAR0 legacy I/O. What <c>-device virtio-rng-pci</c> on q35's pcie.0 gives.
    /// </summary>
    Transitional,

    /// <summary>
    /// disable-legacy=on behind a PCIe root port: a PCI Express function 1af4:1040+ID, revision 1, default subsystem,
    /// no legacy BAR; the PCIe capability at 0x40 and PM at 0x7c come before the virtio capabilities. Not built yet:
    /// it waits for the PCIe capability helper (pcie_endpoint_cap_init).
    /// </summary>
    ModernOnlyBehindRootPort,
}
