namespace KvmLab.Pci.Q35;

/// <summary>
/// ICH9's LPC bridge at 00:1f.0, QEMU's "ICH9-LPC" (hw/isa/lpc_ich9.c): 8086:2918, class 0x0601 (ISA bridge),
/// multi-function so that software scans 1f.2 and 1f.3. QEMU's q35 machine always has it, even with -nodefaults.
/// Only its configuration space is modelled: the power management, GPIO and RCBA blocks it decodes are not.
/// </summary>
public sealed class Ich9Lpc : PciDevice
{
    /// <summary>The LPC interface controller's device ID.</summary>
    public const ushort DeviceIdLpc = 0x2918;

    /// <summary>Creates the function with its reset configuration space.</summary>
    public Ich9Lpc()
        : base("ICH9-LPC", I440fxHostBridge.VendorIdIntel, DeviceIdLpc, revision: 0x02, classCode: 0x0601, interruptPin: 0, multiFunction: true)
    {
    }
}
