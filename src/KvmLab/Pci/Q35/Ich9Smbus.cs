namespace KvmLab.Pci.Q35;

/// <summary>
/// ICH9's SMBus controller at 00:1f.3, QEMU's "ICH9-SMB" (hw/i2c/smbus_ich9.c): 8086:2930, class 0x0c05. QEMU's q35
/// machine always has it. Only its configuration space is modelled.
/// </summary>
public sealed class Ich9Smbus : PciDevice
{
    /// <summary>The SMBus controller's device ID.</summary>
    public const ushort DeviceIdSmbus = 0x2930;

    /// <summary>Creates the function with its reset configuration space.</summary>
    public Ich9Smbus()
        : base("ICH9-SMB", I440fxHostBridge.VendorIdIntel, DeviceIdSmbus, revision: 0x02, classCode: 0x0C05, interruptPin: 1)
    {
    }
}
