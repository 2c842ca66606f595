using KvmLab.Memory;

namespace KvmLab.Pci.Q35;

/// <summary>
/// ICH9's SATA controller in AHCI mode at 00:1f.2, QEMU's "ich9-ahci" (hw/ide/ich.c, pci_ich9_ahci_realize):
/// 8086:2922, class 0x0106 (prog-if 01, AHCI 1.0), INTA#, multi-function as q35 creates it (pci_create_simple_multifunction), with QEMU 7.2's reset configuration space and masks
/// (measured, tests/KvmLab.Tests/Pci/Reference).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>0x20</term><description>BAR4, I/O, 32 bytes, "ahci-idp": the index/data pair</description></item>
/// <item><term>0x24</term><description>BAR5, 32-bit memory, 4 KiB, "ahci": ABAR, the HBA registers</description></item>
/// <item><term>0x80</term><description>MSI, one vector, 64-bit address (msi_init at ICH9_MSI_CAP_OFFSET)</description></item>
/// <item><term>0x90</term><description>MAP, address map: 0x40 = AHCI mode (storage)</description></item>
/// <item><term>0xA8</term><description>SATA capability: revision 1.0, index/data pair in BAR4 at offset 0x10</description></item>
/// </list>
/// The BARs are QEMU's, but what is behind them reads 0 and ignores writes: KvmLab has no AHCI controller.
/// </remarks>
internal sealed class Ich9Ahci : PciDevice
{
    /// <summary>The 6-port SATA AHCI controller's device ID.</summary>
    public const ushort DeviceIdAhci = 0x2922;

    /// <summary>0x80: the MSI capability (ICH9_MSI_CAP_OFFSET).</summary>
    public const int MsiOffset = 0x80;

    /// <summary>0x90: the address map register.</summary>
    public const int AddressMap = 0x90;

    /// <summary>Address map 0x40: the controller runs in AHCI mode.</summary>
    public const byte AddressMapAhci = 0x40;

    /// <summary>0xA8: the SATA capability (ICH9_SATA_CAP_OFFSET).</summary>
    public const int SataCapabilityOffset = 0xA8;

    /// <summary>Capability ID of the SATA capability.</summary>
    public const byte CapabilityIdSata = 0x12;

    private const int IndexDataBar = 4, AbarBar = 5;
    private const ulong IndexDataSize = 0x20, AbarSize = 0x1000;

    /// <summary>Creates the function with its reset configuration space and its two BARs.</summary>
    public Ich9Ahci()
        : base("ich9-ahci", I440fxHostBridge.VendorIdIntel, DeviceIdAhci, revision: 0x02, classCode: 0x0106, interruptPin: 1, multiFunction: true)
    {
        SetConfig8(PciConfig.ClassCode, 0x01);
        SetConfig8(AddressMap, AddressMapAhci);
        IndexData = MemoryRegion.CreateIo("ahci-idp", IndexDataSize, new UnimplementedBarOps(), Name);
        Abar = MemoryRegion.CreateIo("ahci", AbarSize, new UnimplementedBarOps(), Name);
        RegisterBar(IndexDataBar, PciBarKind.Io, IndexData);
        RegisterBar(AbarBar, PciBarKind.Memory32, Abar);

        // The SATA capability first, then MSI: MSI heads the list and points to it, as the ICH9 data sheet has it.
        AddCapability(CapabilityIdSata, 8, SataCapabilityOffset);
        SetConfig16(SataCapabilityOffset + 2, 0x0010);
        const uint indexDataInBar4AtOffset0x10 = (IndexDataBar + 4) | (4 << 4);
        SetConfig32(SataCapabilityOffset + 4, indexDataInBar4AtOffset0x10);
        InitMsi(vectors: 1, addressIs64Bit: true, offset: MsiOffset);
    }

    /// <summary>BAR4's region, "ahci-idp" (unimplemented: reads 0).</summary>
    public MemoryRegion IndexData { get; }

    /// <summary>BAR5's region, "ahci" (unimplemented: reads 0).</summary>
    public MemoryRegion Abar { get; }
}
