namespace KvmLab.Pci;

/// <summary>The device/port type in bits 7:4 of the PCI Express capabilities register (QEMU: <c>PCI_EXP_TYPE_*</c>).</summary>
public enum PcieDevicePortType : byte
{
    /// <summary>A PCI Express endpoint behind a port (virtio-*-pci behind a root port).</summary>
    Endpoint = 0x0,

    /// <summary>A legacy PCI Express endpoint.</summary>
    LegacyEndpoint = 0x1,

    /// <summary>A root port of the root complex (pcie-root-port).</summary>
    RootPort = 0x4,

    /// <summary>The upstream port of a switch.</summary>
    UpstreamPort = 0x5,

    /// <summary>A downstream port of a switch.</summary>
    DownstreamPort = 0x6,

    /// <summary>An endpoint integrated into the root complex: what QEMU's pcie_endpoint_cap_init makes of an endpoint
    /// plugged straight into q35's root bus.</summary>
    RootComplexIntegratedEndpoint = 0x9,
}
