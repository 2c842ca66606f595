namespace KvmLab.Guests;

/// <summary>How a guest reaches PCI configuration space.</summary>
public enum PciAccessMethod
{
    /// <summary>
    /// Configuration mechanism #1: a dword address written to port 0xCF8, data through ports 0xCFC..0xCFF.
    /// Two port accesses per configuration access: two exits.
    /// </summary>
    Conf1,

    /// <summary>
    /// PCIe ECAM: configuration space as memory at <see cref="PcLayout.EcamBase"/> plus
    /// <c>bus&lt;&lt;20 | device&lt;&lt;15 | function&lt;&lt;12 | offset</c>. One MMIO access per configuration access.
    /// </summary>
    Ecam,
}
