namespace KvmLab.Pci;

/// <summary>
/// QEMU's generic PCI Express root port, "pcie-root-port" (hw/pci-bridge/pcie_root_port.c, gen_pcie_root_port.c):
/// 1b36:000c, a type-1 header whose secondary bus is a PCI Express link with one slot, with QEMU 7.2's capabilities at
/// QEMU's offsets (measured, tests/KvmLab.Tests/Pci/Reference):
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>0x40</term><description>bridge subsystem vendor ID (SSVID): 1b36:0000 (pci_bridge_ssvid_init)</description></item>
/// <item><term>0x48</term><description>MSI-X, one vector, table and PBA in BAR0 "pcie-root-port-msix" (4 KiB,
/// gen_rp_interrupts_init with msix_init_exclusive_bar)</description></item>
/// <item><term>0x54</term><description>PCI Express v2, root port, 16 GT/s x32, slot <see cref="Slot"/>, root control
/// (pcie_cap_init, pcie_cap_arifwd_init, pcie_cap_deverr_init, pcie_cap_slot_init, pcie_cap_root_init)</description></item>
/// <item><term>0x100</term><description>AER v2 with the root port registers (pcie_aer_init, pcie_aer_root_init)</description></item>
/// <item><term>0x148</term><description>ACS (pcie_acs_init)</description></item>
/// </list>
/// Behaviour: the bridge's (bus numbers, windows, <see cref="PciBridge"/>); link status reports the PCI Express
/// device behind's speed and width when it has one (a virtio function behind reads 2.5 GT/s x1); slot control writes complete at once
/// (command completed), writing the interlock control toggles the interlock status, and the power controller takes
/// power from the device behind (it then reads all-ones and its BARs decode nothing) and gives it back
/// (pcie_cap_slot_write_config, pcie_cap_update_power). Hot-plug events go out as MSI-X vector 0 when the guest
/// enabled MSI-X, else as INTx (hotplug_event_notify).
/// Not modelled: hot-plug itself, the AER error machinery (no errors are ever raised), and resetting the device
/// behind when power goes (pci_set_power resets it in QEMU).
/// </remarks>
internal sealed class PcieRootPort : PciBridge
{
    /// <summary>Red Hat's vendor ID for QEMU's own PCI devices.</summary>
    public const ushort VendorIdRedHat = 0x1B36;

    /// <summary>The generic root port's device ID.</summary>
    public const ushort DeviceIdRootPort = 0x000C;

    /// <summary>0x40: the SSVID capability.</summary>
    public const int SsvidOffset = 0x40;

    /// <summary>0x48: the MSI-X capability (first free offset after SSVID, as QEMU's allocator finds it).</summary>
    public const int MsixOffset = 0x48;

    /// <summary>0x54: the PCI Express capability, where QEMU's allocator puts it after MSI-X.</summary>
    public const int ExpressOffset = 0x54;

    /// <summary>0x100: AER (GEN_PCIE_ROOT_PORT_AER_OFFSET).</summary>
    public const int AerOffset = 0x100;

    /// <summary>0x148: ACS, right after AER (GEN_PCIE_ROOT_PORT_ACS_OFFSET).</summary>
    public const int AcsOffset = AerOffset + PcieCapability.AerSize;

    // pcie_port_init_reg: bridge control bits that do not apply to PCI Express (master abort, fast back-to-back, the
    // discard timers and their status and SERR).
    private const ushort BridgeControlNotExpress = 0x0FA0;

    /// <summary>Creates the port; <paramref name="chassis"/> and <paramref name="slot"/> are QEMU's properties of the same names.</summary>
    public PcieRootPort(int chassis = 1, int slot = 1)
        : base("pcie-root-port", VendorIdRedHat, DeviceIdRootPort, revision: 0x00, express: true)
    {
        Chassis = chassis;
        Slot = slot;

        // rp_realize
        SetConfig8(PciConfig.InterruptPin, 1);
        SetConfig16(PciConfig.Status, 0);
        SetConfig16(SecondaryStatus, 0);
        SetWriteMask(BridgeControl, 2, BridgeControlWritable & ~BridgeControlNotExpress);
        AddCapability(PciConfig.CapabilityIdSubsystemVendor, 8, SsvidOffset);
        SetConfig16(SsvidOffset + 4, VendorIdRedHat);
        // gen_rp_interrupts_init: one MSI-X vector in a BAR of its own, in use from the start (hot-plug and PME).
        InitMsixExclusiveBar(1, 0);
        MsixVectorUse(0);
        AddExpressCapability(ExpressOffset, PcieDevicePortType.RootPort, portNumber: 0, PcieLinkSpeed.Gt16, width: 32);
        InitExpressAriForwarding();
        InitExpressDeviceErrors();
        InitExpressSlot(slot);
        InitExpressRoot();
        AddAer(AerOffset, rootPort: true);
        AddAcs(AcsOffset);

        // rp_reset_hold's pci_bridge_disable_base_limit: every window starts empty (base above limit).
        SetConfig8(IoBase, 0xF0);
        SetConfig16(MemoryBase, 0xFFF0);
        SetConfig16(PrefetchableBase, 0xFFF0 | PrefetchableRangeType64);
    }

    /// <summary>The chassis number (QEMU property "chassis").</summary>
    public int Chassis { get; }

    /// <summary>The physical slot number (QEMU property "slot").</summary>
    public int Slot { get; }

    /// <summary>Whether the slot's power controller powers the slot (slot control bit 10 clear).</summary>
    public bool SlotPowered => (SlotControl & PcieCapability.SlotControlPowerOff) == 0;

    private ushort SlotControl => GetConfig16(ExpressOffset + PcieCapability.SlotControl);

    private ushort SlotStatus => GetConfig16(ExpressOffset + PcieCapability.SlotStatus);

    private bool _hotPlugNotified;

    /// <inheritdoc />
    public override uint ReadConfig(int offset, int size)
    {
        int at = ExpressOffset + PcieCapability.LinkStatus;
        if (offset < at + 2 && at < offset + size)
        {
            SyncLinkStatus();
        }

        return base.ReadConfig(offset, size);
    }

    /// <inheritdoc />
    public override void WriteConfig(int offset, int size, uint value)
    {
        // rp_write_config: the slot's registers before the write, then the bridge's write, then the slot's reaction.
        ushort oldStatus = SlotStatus;
        base.WriteConfig(offset, size, value);
        SlotConfigWritten(oldStatus, offset, size, value);
    }

    // pcie_cap_slot_reset at machine reset sees the slot populated: power on, power indicator on.
    internal override void SecondaryDeviceAttached(PciDevice device)
    {
        int at = ExpressOffset + PcieCapability.SlotControl;
        SetConfig16(at, (ushort)((SlotControl & ~(PcieCapability.SlotControlPowerOff | PcieCapability.SlotControlPowerIndicator)) |
            PcieCapability.SlotControlPowerIndicatorOn));
        UpdateSlotPower();
    }

    // pcie_sync_bridge_lnk, run by pci_default_read_config whenever a downstream port's link status is read: the
    // current speed and negotiated width are those of the PCI Express function 0 behind, clamped to the port's maximum;
    // with nothing there, or a conventional function, the port's maximum.
    private void SyncLinkStatus()
    {
        const ushort speed = 0x000F, width = 0x03F0;
        ushort capabilities = GetConfig16(ExpressOffset + PcieCapability.LinkCapabilities);
        ushort link = capabilities;
        if (Secondary.Find(0) is { ExpressCapabilityOffset: not 0 } target)
        {
            link = (ushort)target.ReadConfig(target.ExpressCapabilityOffset + PcieCapability.LinkStatus, 2);
            if ((link & width) > (capabilities & width))
            {
                link = (ushort)((link & ~width) | (capabilities & width));
            }

            if ((link & speed) > (capabilities & speed))
            {
                link = (ushort)((link & ~speed) | (capabilities & speed));
            }
        }

        int at = ExpressOffset + PcieCapability.LinkStatus;
        SetConfig16(at, (ushort)((GetConfig16(at) & ~(speed | width)) | (link & (speed | width))));
    }

    // pcie_cap_slot_write_config (its unplug on power-off needs presence detect, which QEMU 7.2 never sets for a device
    // present at start, measured: so it is left out).
    private void SlotConfigWritten(ushort oldStatus, int offset, int size, uint value)
    {
        static bool Touches(int offset, int size, int at) => offset < at + 2 && at < offset + size;
        const ushort events = PcieCapability.SlotStatusAttentionButton | PcieCapability.SlotStatusPowerFault |
            PcieCapability.SlotStatusMrlChanged | PcieCapability.SlotStatusPresenceChanged | PcieCapability.SlotStatusCommandCompleted;
        int statusAt = ExpressOffset + PcieCapability.SlotStatus;
        if (Touches(offset, size, statusAt))
        {
            // Guests clear every bit at start-up; QEMU keeps the events that were pending rather than lose them. Like
            // QEMU it tests the written value as it came, not shifted to the status register's lane.
            if ((value & ~oldStatus & events) != 0)
            {
                SetConfig16(statusAt, (ushort)((SlotStatus & ~events) | (oldStatus & events)));
            }

            UpdateHotPlugNotified();
            if (!_hotPlugNotified)
            {
                SetIrq(false);
            }
        }

        if (!Touches(offset, size, ExpressOffset + PcieCapability.SlotControl))
        {
            return;
        }

        // The interlock control bit is never stored: writing 1 toggles the interlock (QEMU tests the raw value too).
        if ((value & PcieCapability.SlotControlInterlockControl) != 0)
        {
            SetConfig16(statusAt, (ushort)(SlotStatus ^ PcieCapability.SlotStatusInterlock));
        }

        UpdateSlotPower();
        NotifyHotPlug();

        // The command completes at once (PCIe 4.0 6.7.3.2): command completed, unless it was already set.
        if ((SlotStatus & PcieCapability.SlotStatusCommandCompleted) == 0)
        {
            SetConfig16(statusAt, (ushort)(SlotStatus | PcieCapability.SlotStatusCommandCompleted));
            NotifyHotPlug();
        }
    }

    // pcie_cap_update_power: with a power controller, the device behind has power exactly while slot control says so.
    private void UpdateSlotPower()
    {
        bool powered = SlotPowered;
        foreach (PciDevice device in Secondary.Devices)
        {
            device.HasPower = powered;
        }
    }

    // hotplug_event_update_event_status: an enabled event is pending and hot-plug interrupts are on.
    private void UpdateHotPlugNotified() =>
        _hotPlugNotified = (SlotControl & PcieCapability.SlotControlHotPlugInterruptEnable) != 0 &&
            (SlotStatus & SlotControl & ExpressHotPlugEvents) != 0;

    // hotplug_event_notify: with MSI-X on, a message when the event becomes pending; otherwise INTx follows the
    // pending state.
    private void NotifyHotPlug()
    {
        bool before = _hotPlugNotified;
        UpdateHotPlugNotified();
        if (before == _hotPlugNotified)
        {
            return;
        }

        if (MsixEnabled)
        {
            if (_hotPlugNotified)
            {
                NotifyMsix(0);
            }
        }
        else
        {
            SetIrq(_hotPlugNotified);
        }
    }

    /// <inheritdoc />
    public override bool DeviceChangesConfigByte(int offset) =>
        offset - ExpressOffset is PcieCapability.LinkStatus or PcieCapability.LinkStatus + 1
            or PcieCapability.SlotStatus or PcieCapability.SlotStatus + 1;
}
