namespace KvmLab.Pci;

/// <summary>A PCI Express link speed as the link capabilities and status registers encode it (QEMU: <c>PCIExpLinkSpeed</c>).</summary>
public enum PcieLinkSpeed : byte
{
    /// <summary>2.5 GT/s (PCIe 1.x): QEMU's default for endpoints.</summary>
    Gt2_5 = 1,

    /// <summary>5 GT/s (PCIe 2.x).</summary>
    Gt5 = 2,

    /// <summary>8 GT/s (PCIe 3.x).</summary>
    Gt8 = 3,

    /// <summary>16 GT/s (PCIe 4.x): pcie-root-port's default ("x-speed").</summary>
    Gt16 = 4,

    /// <summary>32 GT/s (PCIe 5.x).</summary>
    Gt32 = 5,
}
