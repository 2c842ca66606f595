namespace KvmLab.Pci.Q35;

/// <summary>
/// ICH9's SATA controller in AHCI mode at 00:1f.2, QEMU's "ich9-ahci" (hw/ide/ich.c): 8086:2922, class 0x0106
/// (prog-if 01, AHCI). QEMU's q35 machine always has it. Only its configuration space is modelled.
/// </summary>
public sealed class Ich9Ahci : PciDevice
{
    /// <summary>The 6-port SATA AHCI controller's device ID.</summary>
    public const ushort DeviceIdAhci = 0x2922;

    /// <summary>Creates the function with its reset configuration space.</summary>
    public Ich9Ahci()
        : base("ich9-ahci", I440fxHostBridge.VendorIdIntel, DeviceIdAhci, revision: 0x02, classCode: 0x0106, interruptPin: 1)
    {
        SetConfig8(PciConfig.ClassCode, 0x01);
    }
}
