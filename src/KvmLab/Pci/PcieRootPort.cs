namespace KvmLab.Pci;

/// <summary>
/// QEMU's generic PCI Express root port, "pcie-root-port" (hw/pci-bridge/pcie_root_port.c, gen_pcie_root_port.c):
/// 1b36:000c, a type-1 header whose secondary bus is a PCI Express link with one slot.
/// </summary>
public sealed class PcieRootPort : PciBridge
{
    /// <summary>Red Hat's vendor ID for QEMU's own PCI devices.</summary>
    public const ushort VendorIdRedHat = 0x1B36;

    /// <summary>The generic root port's device ID.</summary>
    public const ushort DeviceIdRootPort = 0x000C;

    /// <summary>Creates the port; <paramref name="chassis"/> and <paramref name="slot"/> are QEMU's properties of the same names.</summary>
    public PcieRootPort(int chassis = 1, int slot = 1)
        : base("pcie-root-port", VendorIdRedHat, DeviceIdRootPort, revision: 0x00, express: true)
    {
        Chassis = chassis;
        Slot = slot;
    }

    /// <summary>The chassis number (QEMU property "chassis").</summary>
    public int Chassis { get; }

    /// <summary>The physical slot number (QEMU property "slot").</summary>
    public int Slot { get; }
}
