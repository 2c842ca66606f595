namespace KvmLab.Pci;

/// <summary>
/// Register offsets (relative to the capability) and bits of the PCI Express capability, version 2 (PCIe 4.0
/// section 7.5.3; QEMU: pci_regs.h <c>PCI_EXP_*</c>), and the IDs and sizes of the extended capabilities QEMU's ports
/// carry.
/// </summary>
internal static class PcieCapability
{
    /// <summary>Bytes of a version-2 PCI Express capability (PCI_EXP_VER2_SIZEOF).</summary>
    public const int Size = 0x3C;

    /// <summary>+0x02 PCI Express capabilities: version 3:0, device/port type 7:4, slot implemented 8.</summary>
    public const int Flags = 0x02;
    /// <summary>+0x04 device capabilities.</summary>
    public const int DeviceCapabilities = 0x04;
    /// <summary>+0x08 device control.</summary>
    public const int DeviceControl = 0x08;
    /// <summary>+0x0A device status (error bits write-1-to-clear).</summary>
    public const int DeviceStatus = 0x0A;
    /// <summary>+0x0C link capabilities: speed 3:0, width 9:4, ASPM, port number 31:24.</summary>
    public const int LinkCapabilities = 0x0C;
    /// <summary>+0x10 link control.</summary>
    public const int LinkControl = 0x10;
    /// <summary>+0x12 link status: current speed 3:0, negotiated width 9:4, data link layer active 13.</summary>
    public const int LinkStatus = 0x12;
    /// <summary>+0x14 slot capabilities: what the slot has, and the physical slot number in 31:19.</summary>
    public const int SlotCapabilities = 0x14;
    /// <summary>+0x18 slot control: hot-plug interrupt enables, indicators, power controller.</summary>
    public const int SlotControl = 0x18;
    /// <summary>+0x1A slot status: hot-plug events (write 1 to clear) and states.</summary>
    public const int SlotStatus = 0x1A;
    /// <summary>+0x1C root control: system error on correctable, non-fatal, fatal errors.</summary>
    public const int RootControl = 0x1C;
    /// <summary>+0x20 root status: PME status (write 1 to clear).</summary>
    public const int RootStatus = 0x20;
    /// <summary>+0x24 device capabilities 2.</summary>
    public const int DeviceCapabilities2 = 0x24;
    /// <summary>+0x28 device control 2.</summary>
    public const int DeviceControl2 = 0x28;
    /// <summary>+0x2C link capabilities 2: supported speeds vector.</summary>
    public const int LinkCapabilities2 = 0x2C;
    /// <summary>+0x30 link control 2: target link speed.</summary>
    public const int LinkControl2 = 0x30;

    /// <summary>Capabilities register version 2.</summary>
    public const ushort FlagsVersion2 = 0x0002;
    /// <summary>Capabilities register bit 8: the port has a slot.</summary>
    public const ushort FlagsSlot = 0x0100;
    /// <summary>Device capabilities bit 15: role-based error reporting.</summary>
    public const uint DeviceCapabilitiesRoleBasedErrors = 0x0000_8000;
    /// <summary>Device capabilities bit 28: function-level reset capability.</summary>
    public const uint DeviceCapabilitiesFunctionLevelReset = 0x1000_0000;
    /// <summary>Device control bits 3:0: correctable, non-fatal, fatal, unsupported-request reporting enables.</summary>
    public const ushort DeviceControlErrorReporting = 0x000F;
    /// <summary>Device control bit 15: initiate function-level reset (reads back 0).</summary>
    public const ushort DeviceControlInitiateFunctionLevelReset = 0x8000;
    /// <summary>Device status bits 3:0: correctable, non-fatal, fatal, unsupported request detected.</summary>
    public const ushort DeviceStatusErrors = 0x000F;
    /// <summary>Link capabilities bit 10: ASPM L0s supported.</summary>
    public const uint LinkCapabilitiesAspmL0s = 0x0000_0400;
    /// <summary>Link control bits 6, 7: common clock configuration, extended synch.</summary>
    public const ushort LinkControlCommonClock = 0x0040, LinkControlExtendedSynch = 0x0080;
    /// <summary>Link capabilities bit 20: data link layer link active reporting.</summary>
    public const uint LinkCapabilitiesDllActiveReporting = 0x0010_0000;
    /// <summary>Link capabilities bit 21: link bandwidth notification.</summary>
    public const uint LinkCapabilitiesBandwidthNotification = 0x0020_0000;
    /// <summary>Slot capabilities bits: attention button, power controller, attention and power indicators, hot-plug
    /// surprise, hot-plug capable.</summary>
    public const uint SlotCapabilitiesAttentionButton = 0x01, SlotCapabilitiesPowerController = 0x02,
        SlotCapabilitiesAttentionIndicator = 0x08, SlotCapabilitiesPowerIndicator = 0x10,
        SlotCapabilitiesHotPlugSurprise = 0x20, SlotCapabilitiesHotPlugCapable = 0x40;
    /// <summary>Slot capabilities bit 17: electromechanical interlock present.</summary>
    public const uint SlotCapabilitiesInterlock = 0x0002_0000;
    /// <summary>Slot capabilities: the physical slot number's shift.</summary>
    public const int SlotCapabilitiesSlotNumberShift = 19;
    /// <summary>Slot control bits: attention button, presence detect changed, command completed and hot-plug
    /// interrupt enables.</summary>
    public const ushort SlotControlAttentionButtonEnable = 0x0001, SlotControlPresenceDetectEnable = 0x0008,
        SlotControlCommandCompletedEnable = 0x0010, SlotControlHotPlugInterruptEnable = 0x0020;
    /// <summary>Slot control bits 7:6, attention indicator; 11b = off.</summary>
    public const ushort SlotControlAttentionIndicator = 0x00C0, SlotControlAttentionIndicatorOff = 0x00C0;
    /// <summary>Slot control bits 9:8, power indicator; 01b = on, 11b = off.</summary>
    public const ushort SlotControlPowerIndicator = 0x0300, SlotControlPowerIndicatorOn = 0x0100, SlotControlPowerIndicatorOff = 0x0300;
    /// <summary>Slot control bit 10: power controller control, 1 = power off.</summary>
    public const ushort SlotControlPowerOff = 0x0400;
    /// <summary>Slot control bit 11: electromechanical interlock control (writing 1 toggles the interlock).</summary>
    public const ushort SlotControlInterlockControl = 0x0800;
    /// <summary>Slot status bits: attention button pressed, power fault, MRL changed, presence detect changed,
    /// command completed (the events), presence detect state, interlock status.</summary>
    public const ushort SlotStatusAttentionButton = 0x0001, SlotStatusPowerFault = 0x0002, SlotStatusMrlChanged = 0x0004,
        SlotStatusPresenceChanged = 0x0008, SlotStatusCommandCompleted = 0x0010, SlotStatusPresence = 0x0040,
        SlotStatusInterlock = 0x0080;
    /// <summary>Root control bits 2:0: system error on correctable, non-fatal and fatal errors.</summary>
    public const ushort RootControlSystemErrors = 0x0007;
    /// <summary>Root status bit 16: PME status.</summary>
    public const uint RootStatusPme = 0x0001_0000;
    /// <summary>Device capabilities 2 bit 5: ARI forwarding.</summary>
    public const uint DeviceCapabilities2AriForwarding = 0x0000_0020;
    /// <summary>Device capabilities 2 bits 20, 21: extended fmt field, end-end TLP prefix.</summary>
    public const uint DeviceCapabilities2ExtendedFmt = 0x0010_0000, DeviceCapabilities2EndEndTlpPrefix = 0x0020_0000;
    /// <summary>Device control 2 bit 5: ARI forwarding enable.</summary>
    public const ushort DeviceControl2AriForwarding = 0x0020;
    /// <summary>Device control 2 bit 15: end-end TLP prefix blocking.</summary>
    public const ushort DeviceControl2EndEndTlpPrefixBlocking = 0x8000;

    /// <summary>Extended capability ID of Advanced Error Reporting.</summary>
    public const ushort ExtendedIdAer = 0x0001;
    /// <summary>AER version QEMU implements (PCI_ERR_VER).</summary>
    public const byte AerVersion = 2;
    /// <summary>Bytes of the AER capability with the root port registers (PCI_ERR_SIZEOF).</summary>
    public const int AerSize = 0x48;
    /// <summary>Extended capability ID of Access Control Services.</summary>
    public const ushort ExtendedIdAcs = 0x000D;
    /// <summary>ACS version.</summary>
    public const byte AcsVersion = 1;
    /// <summary>Bytes of the ACS capability without an egress control vector (PCI_ACS_SIZEOF).</summary>
    public const int AcsSize = 8;
}
