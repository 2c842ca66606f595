namespace KvmLab.Pci;

// The PCI Express capability and the extended capabilities QEMU's ports carry (QEMU 7.2: hw/pci/pcie.c,
// pcie_aer.c). Each method mirrors one QEMU initialiser and says which; the values and masks are the ones measured
// on pcie-root-port (tests/KvmLab.Tests/Pci/Reference).
public abstract partial class PciDevice
{
    /// <summary>Offset of the PCI Express capability, or 0 when the function has none.</summary>
    public int ExpressCapabilityOffset { get; private set; }

    /// <summary>
    /// Adds a version-2 PCI Express capability (0x3C bytes) at <paramref name="offset"/> (QEMU: <c>pcie_cap_init</c>).
    /// </summary>
    /// <remarks>
    /// What every type gets: the capabilities register (version 2, <paramref name="type"/>), role-based error
    /// reporting in device capabilities, ASPM L0s and <paramref name="portNumber"/> in link capabilities, the link at
    /// <paramref name="speed"/> x<paramref name="width"/> in link capabilities and status, extended fmt field and
    /// end-end TLP prefix in device capabilities 2 with prefix blocking writable in device control 2. Past 2.5 GT/s
    /// or x1 the link also reports bandwidth notification, past 2.5 GT/s data-link-layer active reporting and a
    /// target link speed, past 5 GT/s the supported speeds vector (QEMU: pcie_cap_fill_lnk, which QEMU applies only
    /// to slots, so give endpoints the defaults). Device control, link control and the rest stay read-only until the
    /// matching <c>InitExpress*</c> method opens them, as in QEMU.
    /// <para>For an endpoint use <see cref="AddExpressEndpointCapability"/>; for a root port call this with
    /// <see cref="PcieDevicePortType.RootPort"/>, then <see cref="InitExpressAriForwarding"/>,
    /// <see cref="InitExpressDeviceErrors"/>, <see cref="InitExpressSlot"/> and <see cref="InitExpressRoot"/> in that
    /// order (rp_realize).</para>
    /// </remarks>
    /// <param name="offset">Where the capability goes: QEMU's callers pass a fixed offset or let it be found (0).</param>
    /// <param name="type">The device/port type.</param>
    /// <param name="portNumber">The port number in link capabilities 31:24 (QEMU's "port" property; 0 for endpoints).</param>
    /// <param name="speed">Maximum link speed (QEMU: "x-speed").</param>
    /// <param name="width">Maximum link width, 1 to 32 lanes (QEMU: "x-width").</param>
    /// <returns>The capability's offset.</returns>
    /// <exception cref="InvalidOperationException">The function is not PCI Express, or already has the capability.</exception>
    protected int AddExpressCapability(int offset, PcieDevicePortType type, byte portNumber = 0,
        PcieLinkSpeed speed = PcieLinkSpeed.Gt2_5, int width = 1)
    {
        if (!IsExpress)
        {
            throw new InvalidOperationException($"{Name} is a conventional PCI function: it cannot carry a PCI Express capability.");
        }

        if (ExpressCapabilityOffset != 0)
        {
            throw new InvalidOperationException($"{Name} already has a PCI Express capability at 0x{ExpressCapabilityOffset:x}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 32);
        int at = AddCapability(PciConfig.CapabilityIdExpress, PcieCapability.Size, offset);
        ExpressCapabilityOffset = at;

        // pcie_cap_v1_fill
        SetConfig16(at + PcieCapability.Flags, (ushort)(((int)type << 4) | PcieCapability.FlagsVersion2));
        SetConfig32(at + PcieCapability.DeviceCapabilities, PcieCapability.DeviceCapabilitiesRoleBasedErrors);
        uint linkSpeedWidth = (byte)speed | ((uint)width << 4);
        uint linkCapabilities = ((uint)portNumber << 24) | PcieCapability.LinkCapabilitiesAspmL0s | linkSpeedWidth;
        SetConfig16(at + PcieCapability.LinkStatus, (ushort)linkSpeedWidth);

        // pcie_cap_init
        SetConfig32(at + PcieCapability.DeviceCapabilities2,
            PcieCapability.DeviceCapabilities2ExtendedFmt | PcieCapability.DeviceCapabilities2EndEndTlpPrefix);
        SetWriteMask(at + PcieCapability.DeviceControl2, 2, PcieCapability.DeviceControl2EndEndTlpPrefixBlocking);

        // pcie_cap_fill_lnk
        if (width > 1 || speed > PcieLinkSpeed.Gt2_5)
        {
            linkCapabilities |= PcieCapability.LinkCapabilitiesBandwidthNotification;
        }

        if (speed > PcieLinkSpeed.Gt2_5)
        {
            linkCapabilities |= PcieCapability.LinkCapabilitiesDllActiveReporting;
            SetConfig16(at + PcieCapability.LinkControl2, (byte)speed);
        }

        if (speed > PcieLinkSpeed.Gt5)
        {
            // Supported link speeds vector: bit 1 is 2.5 GT/s, and QEMU claims every speed up to the maximum.
            SetConfig32(at + PcieCapability.LinkCapabilities2, ((1u << (byte)speed) - 1) << 1);
        }

        SetConfig32(at + PcieCapability.LinkCapabilities, linkCapabilities);

        // pcie_cap_init with x-pcie-extcap-init (on by default): the dword at 0x100 reads as an empty extended
        // capability header and stays so, whether or not an extended capability is added there later.
        SetWriteMask(PciConfig.ExtendedCapabilities, 4, 0);
        return at;
    }

    /// <summary>
    /// Adds the PCI Express capability of an endpoint (QEMU: <c>pcie_endpoint_cap_init</c>, as virtio-pci's
    /// realize calls it for a virtio device on a PCI Express bus): a 2.5 GT/s x1 link, port number 0.
    /// </summary>
    /// <remarks>
    /// A virtio device behind a root port: <c>AddExpressEndpointCapability(offset)</c> in the constructor, after the
    /// conventional capabilities QEMU adds first, so the list comes out in QEMU's order (the newest capability is the
    /// head of the list). QEMU then opens more fields per virtio-pci flag: device error reporting
    /// (<see cref="InitExpressDeviceErrors"/>), link control, power management and function-level reset.
    /// </remarks>
    /// <param name="offset">The capability's offset (virtio-pci lets QEMU find one: 0).</param>
    /// <param name="rootComplexIntegrated">True when the function sits straight on q35's root bus: QEMU then makes it
    /// a root complex integrated endpoint (type 9), since Windows rejects plain endpoints there.</param>
    /// <returns>The capability's offset.</returns>
    protected int AddExpressEndpointCapability(int offset = 0, bool rootComplexIntegrated = false) =>
        AddExpressCapability(offset, rootComplexIntegrated ? PcieDevicePortType.RootComplexIntegratedEndpoint : PcieDevicePortType.Endpoint);

    /// <summary>Opens device error reporting (QEMU: <c>pcie_cap_deverr_init</c>): the four reporting enables become
    /// writable and the four detected bits write-1-to-clear.</summary>
    protected void InitExpressDeviceErrors()
    {
        int at = RequireExpressCapability();
        SetConfig32(at + PcieCapability.DeviceCapabilities, GetConfig32(at + PcieCapability.DeviceCapabilities) | PcieCapability.DeviceCapabilitiesRoleBasedErrors);
        OrMask16(_writeMask, at + PcieCapability.DeviceControl, PcieCapability.DeviceControlErrorReporting);
        OrMask16(_w1cMask, at + PcieCapability.DeviceStatus, PcieCapability.DeviceStatusErrors);
    }

    /// <summary>Clears the four error reporting enables (QEMU: <c>pcie_cap_deverr_reset</c>, part of a device's reset).</summary>
    protected void ResetExpressDeviceErrors()
    {
        int at = RequireExpressCapability();
        SetConfig16(at + PcieCapability.DeviceControl,
            (ushort)(GetConfig16(at + PcieCapability.DeviceControl) & ~PcieCapability.DeviceControlErrorReporting));
    }

    /// <summary>Makes link control's common clock configuration and extended synch writable (QEMU:
    /// <c>pcie_cap_lnkctl_init</c>; QEMU leaves the ASPM control read-only).</summary>
    protected void InitExpressLinkControl()
    {
        int at = RequireExpressCapability();
        OrMask16(_writeMask, at + PcieCapability.LinkControl, PcieCapability.LinkControlCommonClock | PcieCapability.LinkControlExtendedSynch);
    }

    /// <summary>Clears common clock configuration and extended synch (QEMU: <c>pcie_cap_lnkctl_reset</c>).</summary>
    protected void ResetExpressLinkControl()
    {
        int at = RequireExpressCapability();
        SetConfig16(at + PcieCapability.LinkControl, (ushort)(GetConfig16(at + PcieCapability.LinkControl) &
            ~(PcieCapability.LinkControlCommonClock | PcieCapability.LinkControlExtendedSynch)));
    }

    /// <summary>
    /// Offers function-level reset (QEMU: <c>pcie_cap_flr_init</c>): the capability bit in device capabilities, and
    /// initiate-FLR writable in device control. What the write does is
    /// <see cref="TakeExpressFunctionLevelReset"/>'s.
    /// </summary>
    protected void InitExpressFunctionLevelReset()
    {
        int at = RequireExpressCapability();
        SetConfig32(at + PcieCapability.DeviceCapabilities,
            GetConfig32(at + PcieCapability.DeviceCapabilities) | PcieCapability.DeviceCapabilitiesFunctionLevelReset);
        OrMask16(_writeMask, at + PcieCapability.DeviceControl, PcieCapability.DeviceControlInitiateFunctionLevelReset);
    }

    /// <summary>
    /// Call after every configuration write of a function with <see cref="InitExpressFunctionLevelReset"/> (QEMU:
    /// <c>pcie_cap_flr_write_config</c>): when the write set initiate-FLR, <paramref name="reset"/> resets the
    /// function and the bit is cleared again, so it always reads 0.
    /// </summary>
    /// <returns>Whether the function was reset.</returns>
    protected bool TakeExpressFunctionLevelReset(Action reset)
    {
        ArgumentNullException.ThrowIfNull(reset);
        int at = RequireExpressCapability();
        ushort control = GetConfig16(at + PcieCapability.DeviceControl);
        if ((control & PcieCapability.DeviceControlInitiateFunctionLevelReset) == 0)
        {
            return false;
        }

        // QEMU resets first and clears the bit after, so the reset handler could tell an FLR from other resets.
        reset();
        SetConfig16(at + PcieCapability.DeviceControl,
            (ushort)(GetConfig16(at + PcieCapability.DeviceControl) & ~PcieCapability.DeviceControlInitiateFunctionLevelReset));
        return true;
    }

    /// <summary>Reports ARI forwarding and makes its enable writable (QEMU: <c>pcie_cap_arifwd_init</c>; ports only).</summary>
    protected void InitExpressAriForwarding()
    {
        int at = RequireExpressCapability();
        SetConfig32(at + PcieCapability.DeviceCapabilities2, GetConfig32(at + PcieCapability.DeviceCapabilities2) | PcieCapability.DeviceCapabilities2AriForwarding);
        OrMask16(_writeMask, at + PcieCapability.DeviceControl2, PcieCapability.DeviceControl2AriForwarding);
    }

    /// <summary>
    /// Makes the root control's system-error enables writable and PME status write-1-to-clear (QEMU:
    /// <c>pcie_cap_root_init</c>; root ports only).
    /// </summary>
    protected void InitExpressRoot()
    {
        int at = RequireExpressCapability();
        SetWriteMask(at + PcieCapability.RootControl, 2, PcieCapability.RootControlSystemErrors);
        SetWriteOneToClearMask(at + PcieCapability.RootStatus, 4, PcieCapability.RootStatusPme);
    }

    /// <summary>
    /// Gives a downstream port its hot-plug slot (QEMU: <c>pcie_cap_slot_init</c>): the slot-implemented flag, slot
    /// capabilities with <paramref name="slotNumber"/>, attention button, indicators, hot-plug surprise and capable,
    /// an electromechanical interlock and, with <paramref name="powerController"/>, a power controller; slot control
    /// with both indicators off (and power off) and its enables, indicators and power control writable; the
    /// hot-plug events of slot status write-1-to-clear. What writes to the slot do is the port's
    /// (see <see cref="PcieRootPort"/>).
    /// </summary>
    protected void InitExpressSlot(int slotNumber, bool powerController = true)
    {
        int at = RequireExpressCapability();
        ArgumentOutOfRangeException.ThrowIfNegative(slotNumber);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotNumber, 0x1FFF);
        SetConfig16(at + PcieCapability.Flags, (ushort)(GetConfig16(at + PcieCapability.Flags) | PcieCapability.FlagsSlot));
        uint capabilities = ((uint)slotNumber << PcieCapability.SlotCapabilitiesSlotNumberShift) |
            PcieCapability.SlotCapabilitiesInterlock | PcieCapability.SlotCapabilitiesHotPlugSurprise |
            PcieCapability.SlotCapabilitiesHotPlugCapable | PcieCapability.SlotCapabilitiesPowerIndicator |
            PcieCapability.SlotCapabilitiesAttentionIndicator | PcieCapability.SlotCapabilitiesAttentionButton;
        ushort control = PcieCapability.SlotControlPowerIndicatorOff | PcieCapability.SlotControlAttentionIndicatorOff;
        ushort writable = PcieCapability.SlotControlPowerIndicator | PcieCapability.SlotControlAttentionIndicator |
            PcieCapability.SlotControlHotPlugInterruptEnable | PcieCapability.SlotControlCommandCompletedEnable |
            PcieCapability.SlotControlPresenceDetectEnable | PcieCapability.SlotControlAttentionButtonEnable;
        if (powerController)
        {
            capabilities |= PcieCapability.SlotCapabilitiesPowerController;
            control |= PcieCapability.SlotControlPowerOff;
            writable |= PcieCapability.SlotControlPowerOff;
        }

        SetConfig32(at + PcieCapability.SlotCapabilities, capabilities);
        SetConfig16(at + PcieCapability.SlotControl, control);
        SetWriteMask(at + PcieCapability.SlotControl, 2, writable);
        SetWriteOneToClearMask(at + PcieCapability.SlotStatus, 2, ExpressHotPlugEvents);
    }

    /// <summary>The slot events QEMU raises and software clears (PCI_EXP_HP_EV_SUPPORTED): attention button, presence
    /// detect changed, command completed.</summary>
    private protected const ushort ExpressHotPlugEvents =
        PcieCapability.SlotStatusAttentionButton | PcieCapability.SlotStatusPresenceChanged | PcieCapability.SlotStatusCommandCompleted;

    /// <summary>
    /// Adds Advanced Error Reporting at <paramref name="offset"/> (QEMU: <c>pcie_aer_init</c> with PCI_ERR_SIZEOF
    /// bytes, and for a root port <c>pcie_aer_root_init</c>): uncorrectable status write-1-to-clear, the severity
    /// writable with its default, correctable status write-1-to-clear and its mask writable with its default, ECRC
    /// generation and checking and multiple header recording offered and their enables writable. QEMU 7.2 leaves the
    /// uncorrectable error mask read-only (measured). Errors are never raised: the registers are what a driver
    /// programs and reads back.
    /// </summary>
    protected void AddAer(int offset, bool rootPort)
    {
        const uint uncorrectableSupported = 0x03FF_F030, uncorrectableSeverityDefault = 0x0046_2030;
        const uint correctableSupported = 0x0000_F1C1, correctableMaskDefault = 0x0000_E000;
        const uint ecrcAndHeaderLogOffered = 0x0000_02A0, ecrcAndHeaderLogEnables = 0x0000_0540;
        const uint rootErrorCommands = 0x7, rootErrorStatus = 0x7F;
        AddExtendedCapability(PcieCapability.ExtendedIdAer, PcieCapability.AerVersion, offset, PcieCapability.AerSize);
        SetWriteOneToClearMask(offset + 0x04, 4, uncorrectableSupported);
        SetConfig32(offset + 0x0C, uncorrectableSeverityDefault);
        SetWriteMask(offset + 0x0C, 4, uncorrectableSupported);
        SetWriteOneToClearMask(offset + 0x10, 4, correctableSupported);
        SetConfig32(offset + 0x14, correctableMaskDefault);
        SetWriteMask(offset + 0x14, 4, correctableSupported);
        SetConfig32(offset + 0x18, ecrcAndHeaderLogOffered);
        SetWriteMask(offset + 0x18, 4, ecrcAndHeaderLogEnables);
        if (HeaderType == 1)
        {
            // A port forwards system errors: bridge control's SERR enable and the status bit it sets.
            OrMask16(_writeMask, PciBridge.BridgeControl, 0x0002);
            OrMask16(_w1cMask, PciConfig.Status, 0x4000);
        }

        if (rootPort)
        {
            SetWriteMask(offset + 0x2C, 4, rootErrorCommands);
            SetWriteOneToClearMask(offset + 0x30, 4, rootErrorStatus);
        }
    }

    /// <summary>
    /// Adds Access Control Services at <paramref name="offset"/> (QEMU: <c>pcie_acs_init</c>): a downstream port
    /// offers source validation, translation blocking, P2P request and completion redirect, upstream forwarding and
    /// direct translated P2P, and each of them is writable in ACS control; an endpoint offers none.
    /// </summary>
    protected void AddAcs(int offset)
    {
        const ushort portControls = 0x005F;
        AddExtendedCapability(PcieCapability.ExtendedIdAcs, PcieCapability.AcsVersion, offset, PcieCapability.AcsSize);
        if (HeaderType == 1)
        {
            SetConfig16(offset + 4, portControls);
            SetWriteMask(offset + 6, 2, portControls);
        }
    }

    private int RequireExpressCapability() => ExpressCapabilityOffset != 0
        ? ExpressCapabilityOffset
        : throw new InvalidOperationException($"{Name} has no PCI Express capability yet: call AddExpressCapability first.");

    private static void OrMask16(byte[] mask, int offset, ushort bits)
    {
        mask[offset] |= (byte)bits;
        mask[offset + 1] |= (byte)(bits >> 8);
    }
}
