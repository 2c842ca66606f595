namespace KvmLab.Pci;

/// <summary>Offsets and bits of the type-0 configuration header (PCI Local Bus 3.0, chapter 6; QEMU: pci_regs.h).</summary>
internal static class PciConfig
{
    /// <summary>Size of conventional configuration space (all that conf1 reaches).</summary>
    public const int Size = 256;

    /// <summary>Size of a PCI Express function's configuration space (reached through ECAM).</summary>
    public const int ExpressSize = 4096;

    /// <summary>0x100: the first extended capability of a PCI Express function.</summary>
    public const int ExtendedCapabilities = 0x100;

    /// <summary>0x2C subsystem vendor ID (type-0 header).</summary>
    public const int SubsystemVendorId = 0x2C;

    /// <summary>0x2E subsystem ID (type-0 header).</summary>
    public const int SubsystemId = 0x2E;

    /// <summary>QEMU's default subsystem vendor for functions that set none: Red Hat/Qumranet (PCI_SUBVENDOR_ID_REDHAT_QUMRANET).</summary>
    public const ushort DefaultSubsystemVendorId = 0x1AF4;

    /// <summary>QEMU's default subsystem ID (PCI_SUBDEVICE_ID_QEMU).</summary>
    public const ushort DefaultSubsystemId = 0x1100;

    /// <summary>0x00 vendor ID (16 bits, read-only).</summary>
    public const int VendorId = 0x00;

    /// <summary>0x02 device ID (16 bits, read-only).</summary>
    public const int DeviceId = 0x02;

    /// <summary>0x04 command register (16 bits).</summary>
    public const int Command = 0x04;

    /// <summary>0x06 status register (16 bits, error bits write-1-to-clear).</summary>
    public const int Status = 0x06;

    /// <summary>0x08 revision ID.</summary>
    public const int RevisionId = 0x08;

    /// <summary>0x09 class code: programming interface, subclass, base class (24 bits).</summary>
    public const int ClassCode = 0x09;

    /// <summary>0x0C cache line size.</summary>
    public const int CacheLineSize = 0x0C;

    /// <summary>0x0E header type; bit 7 = multi-function.</summary>
    public const int HeaderType = 0x0E;

    /// <summary>0x10 first base address register; six dwords follow.</summary>
    public const int Bar0 = 0x10;

    /// <summary>0x34 capabilities pointer.</summary>
    public const int CapabilityPointer = 0x34;

    /// <summary>0x3C interrupt line (written by firmware, informational).</summary>
    public const int InterruptLine = 0x3C;

    /// <summary>0x3D interrupt pin (1 = INTA#, 0 = none).</summary>
    public const int InterruptPin = 0x3D;

    /// <summary>First byte after the standard header: the device-specific area where capabilities live.</summary>
    public const int DeviceSpecific = 0x40;

    /// <summary>Command bit 0: respond to I/O space accesses.</summary>
    public const ushort CommandIo = 0x0001;

    /// <summary>Command bit 1: respond to memory space accesses.</summary>
    public const ushort CommandMemory = 0x0002;

    /// <summary>Command bit 2: may master the bus (DMA, MSI writes).</summary>
    public const ushort CommandBusMaster = 0x0004;

    /// <summary>Command bit 6: parity error response.</summary>
    public const ushort CommandParity = 0x0040;

    /// <summary>Command bit 8: SERR# enable.</summary>
    public const ushort CommandSerr = 0x0100;

    /// <summary>Command bit 10: INTx# assertion disabled.</summary>
    public const ushort CommandIntxDisable = 0x0400;

    /// <summary>Status bit 3: the function's INTx# is asserted (read-only).</summary>
    public const ushort StatusInterrupt = 0x0008;

    /// <summary>Status bit 4: a capability list is present (read-only).</summary>
    public const ushort StatusCapabilityList = 0x0010;

    /// <summary>Status error bits that software clears by writing 1 (QEMU: pci_init_w1cmask).</summary>
    public const ushort StatusWriteOneToClear = 0xF900;

    /// <summary>Header type bit 7: the device has more functions than function 0.</summary>
    public const byte HeaderTypeMultiFunction = 0x80;

    /// <summary>Capability ID of power management.</summary>
    public const byte CapabilityIdPowerManagement = 0x01;

    /// <summary>Capability ID of MSI.</summary>
    public const byte CapabilityIdMsi = 0x05;

    /// <summary>Capability ID of a vendor-specific capability (virtio's configuration structures).</summary>
    public const byte CapabilityIdVendor = 0x09;

    /// <summary>Capability ID of a bridge's subsystem vendor/ID capability (SSVID).</summary>
    public const byte CapabilityIdSubsystemVendor = 0x0D;

    /// <summary>Capability ID of PCI Express.</summary>
    public const byte CapabilityIdExpress = 0x10;

    /// <summary>Capability ID of MSI-X.</summary>
    public const byte CapabilityIdMsix = 0x11;

    /// <summary>BAR bit 0: the BAR decodes I/O space.</summary>
    public const uint BarSpaceIo = 0x1;

    /// <summary>Memory BAR bits 2:1 = 10b: 64-bit BAR.</summary>
    public const uint BarMemoryType64 = 0x4;

    /// <summary>Memory BAR bit 3: prefetchable.</summary>
    public const uint BarMemoryPrefetch = 0x8;
}
