using KvmLab.Memory;
using KvmLab.Pci;

namespace KvmLab.Devices.Virtio;

/// <summary>
/// QEMU 7.2's virtio-pci transport (<c>VirtIOPCIProxy</c>, hw/virtio/virtio-pci.c) around a <see cref="VirtioDevice"/>.
/// The transitional variant on a root bus, as <c>-device virtio-rng-pci</c> gives it, has: BAR0 the legacy I/O block
/// "virtio-pci"; BAR1 "NAME-msix" with the MSI-X table and PBA; BAR4 a 64-bit prefetchable "virtio-pci" container with
/// the common, ISR, device and notify regions at 0x0000/0x1000/0x2000/0x3000; and vendor capabilities describing them
/// plus the PCI-configuration access window, then MSI-X, in QEMU's order (virtio_pci_device_plugged).
/// The modern-only variant behind a PCI Express root port (<see cref="VirtioPciMode.ModernOnlyBehindRootPort"/>) has
/// no BAR0; before the virtio capabilities it has the PCI Express endpoint capability at 0x40 and power management at
/// 0x7c, with QEMU's default flags: device error reporting, link control, the PM state and function-level reset
/// writable (virtio_pci_realize). AER and ATS are off by default, so its extended space is empty.
/// </summary>
/// <remarks>
/// Queue notifications: QEMU serves the notify addresses with ioeventfds once the driver sets DRIVER_OK
/// (virtio_pci_ioeventfd_assign). <see cref="ActiveEventFds"/> lists where the machine may register them, and
/// <see cref="EventFdsChanged"/> says when the list changed; when such an eventfd fired, the machine calls
/// <see cref="HostNotifierFired"/>. A notify write that reaches the device still processes the queue.
/// </remarks>
internal sealed partial class VirtioPci : PciDevice, IVirtioTransport
{
    /// <summary>Red Hat / Qumranet, the vendor of every virtio PCI function.</summary>
    public const ushort VendorId = 0x1AF4;

    /// <summary>Device ID of a modern-only function: 0x1040 + virtio device ID (PCI_DEVICE_ID_VIRTIO_10_BASE).</summary>
    public const ushort ModernDeviceIdBase = 0x1040;

    /// <summary>BAR of the legacy I/O block.</summary>
    public const int LegacyBar = 0;

    /// <summary>BAR of the MSI-X table and PBA.</summary>
    public const int MsixBar = 1;

    /// <summary>BAR of the modern memory region (64-bit, occupies BAR4 and BAR5).</summary>
    public const int ModernBar = 4;

    /// <summary>Offset of the PCI Express capability of the modern-only variant (the first free offset).</summary>
    public const int ExpressOffset = 0x40;

    /// <summary>Offset of the power management capability of the modern-only variant, right after PCI Express.</summary>
    public const int PowerManagementOffset = ExpressOffset + PcieCapability.Size;

    // PCI_PM_SIZEOF; the capabilities register's version field (PM spec 1.2); the power state field of PMCSR.
    private const int PowerManagementSize = 8;
    private const int PowerManagementCapabilities = 2, PowerManagementControl = 4;
    private const ushort PowerManagementVersion12 = 0x0003, PowerManagementStateMask = 0x0003;

    private readonly ProxyQueue[] _proxyQueues = new ProxyQueue[VirtioSpec.QueueMax];
    private readonly uint[] _guestFeatures = new uint[2];
    private readonly bool _useIoEventFd;
    private uint _deviceFeatureSelect;
    private uint _guestFeatureSelect;
    private bool _ioEventFdStarted;
    private readonly int _configCap;
    private IReadOnlyList<IoEventFdRequest> _lastEventFds = [];

    /// <summary>Creates the transport for <paramref name="device"/>.</summary>
    /// <param name="device">The virtio device.</param>
    /// <param name="typeName">QEMU's type name, e.g. "virtio-rng-pci" (the PCI device name in traces and the MSI-X BAR name).</param>
    /// <param name="vectors">MSI-X vectors (QEMU's "vectors" property; virtio-rng-pci defaults to 2); 0 for none.</param>
    /// <param name="mode">Transitional on a root bus, or modern-only behind a PCIe root port.</param>
    /// <param name="ioEventFd">QEMU's "ioeventfd" property: whether notify addresses are offered as ioeventfds.</param>
    public VirtioPci(VirtioDevice device, string typeName, int vectors = 2, VirtioPciMode mode = VirtioPciMode.Transitional, bool ioEventFd = true)
        : base(typeName, VendorId,
            mode == VirtioPciMode.Transitional ? device.TransitionalPciDeviceId : (ushort)(ModernDeviceIdBase + device.DeviceId),
            revision: mode == VirtioPciMode.Transitional ? (byte)0 : (byte)1, device.PciClass, interruptPin: 1,
            express: mode == VirtioPciMode.ModernOnlyBehindRootPort,
            subsystemVendorId: mode == VirtioPciMode.Transitional ? VendorId : (ushort)0,
            subsystemId: mode == VirtioPciMode.Transitional ? device.DeviceId : (ushort)0)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        Mode = mode;
        _useIoEventFd = ioEventFd;
        for (int i = 0; i < _proxyQueues.Length; i++)
        {
            _proxyQueues[i] = new ProxyQueue();
        }

        if (mode == VirtioPciMode.ModernOnlyBehindRootPort)
        {
            // virtio_pci_realize on a PCI Express port, before the virtio device plugs in: these come first, so every
            // virtio capability sits after them (and the list, newest first, ends with PM -> PCI Express).
            AddExpressEndpointCapability(ExpressOffset);
            AddCapability(PciConfig.CapabilityIdPowerManagement, PowerManagementSize, PowerManagementOffset);
            SetConfig16(PowerManagementOffset + PowerManagementCapabilities, PowerManagementVersion12);
            InitExpressDeviceErrors(); // x-pcie-deverr-init
            InitExpressLinkControl(); // x-pcie-lnkctl-init
            SetWriteMask(PowerManagementOffset + PowerManagementControl, 2, PowerManagementStateMask); // x-pcie-pm-init
            InitExpressFunctionLevelReset(); // x-pcie-flr-init
        }

        // virtio_pci_pre_plugged.
        device.HostFeatures |= (1UL << VirtioSpec.FeatureVersion1) | (1UL << VirtioSpec.FeatureBadFeature);
        device.Plug(this);

        Common = MemoryRegion.CreateIo($"virtio-pci-common-{device.Name}", VirtioPciRegisters.RegionSize, new CommonOps(this), typeName, VirtioPciRegisters.Common);
        IsrRegion = MemoryRegion.CreateIo($"virtio-pci-isr-{device.Name}", VirtioPciRegisters.RegionSize, new IsrOps(this), typeName, VirtioPciRegisters.Isr);
        DeviceRegion = MemoryRegion.CreateIo($"virtio-pci-device-{device.Name}", VirtioPciRegisters.RegionSize, new DeviceConfigOps(this), typeName);
        NotifyRegion = MemoryRegion.CreateIo($"virtio-pci-notify-{device.Name}", VirtioPciRegisters.NotifySize, new NotifyOps(this), typeName, VirtioPciRegisters.Notify);
        ModernRegion = MemoryRegion.CreateContainer("virtio-pci", 0x4000, typeName);
        AddModernCapability(Common, VirtioPciRegisters.CommonOffset, VirtioPciRegisters.CapCommonCfg, 16);
        AddModernCapability(IsrRegion, VirtioPciRegisters.IsrOffset, VirtioPciRegisters.CapIsrCfg, 16);
        AddModernCapability(DeviceRegion, VirtioPciRegisters.DeviceOffset, VirtioPciRegisters.CapDeviceCfg, 16);
        int notify = AddModernCapability(NotifyRegion, VirtioPciRegisters.NotifyOffset, VirtioPciRegisters.CapNotifyCfg, 20);
        SetConfig32(notify + VirtioPciRegisters.CapExtra, VirtioPciRegisters.NotifyOffMultiplier);
        RegisterBar(ModernBar, PciBarKind.Memory64, ModernRegion, prefetchable: true);

        // The PCI configuration access window: bar, offset, length and data are the guest's to write.
        _configCap = AddCapability(PciConfig.CapabilityIdVendor, 20);
        SetConfig8(_configCap + 2, 20);
        SetConfig8(_configCap + VirtioPciRegisters.CapCfgType, VirtioPciRegisters.CapPciCfg);
        SetWriteMask(_configCap + VirtioPciRegisters.CapBar, 1, 0xFF);
        SetWriteMask(_configCap + VirtioPciRegisters.CapOffset, 4, uint.MaxValue);
        SetWriteMask(_configCap + VirtioPciRegisters.CapLength, 4, uint.MaxValue);
        SetWriteMask(_configCap + VirtioPciRegisters.CapExtra, 4, uint.MaxValue);

        if (vectors > 0)
        {
            InitMsixExclusiveBar(vectors, MsixBar);
        }

        Vectors = vectors;
        if (mode == VirtioPciMode.Transitional)
        {
            int legacySize = VirtioPciRegisters.LegacyConfigOffset(vectors > 0) + device.ConfigLength;
            Legacy = MemoryRegion.CreateIo("virtio-pci", (ulong)Math.Max(4, 1 << (32 - int.LeadingZeroCount(legacySize - 1))),
                new LegacyOps(this), typeName, VirtioPciRegisters.Legacy);
            RegisterBar(LegacyBar, PciBarKind.Io, Legacy);
        }
    }

    /// <summary>The virtio device behind the transport.</summary>
    public VirtioDevice Device { get; }

    /// <summary>Which variant this function is.</summary>
    public VirtioPciMode Mode { get; }

    /// <summary>MSI-X vectors (0: none).</summary>
    public int Vectors { get; }

    /// <summary>BAR0 "virtio-pci": the legacy register block; null for the modern-only variant, which has no BAR0.</summary>
    public MemoryRegion? Legacy { get; }

    /// <summary>BAR4 "virtio-pci": the container of the modern regions.</summary>
    public MemoryRegion ModernRegion { get; }

    /// <summary>"virtio-pci-common-NAME" at 0x0000 of BAR4.</summary>
    public MemoryRegion Common { get; }

    /// <summary>"virtio-pci-isr-NAME" at 0x1000 of BAR4.</summary>
    public MemoryRegion IsrRegion { get; }

    /// <summary>"virtio-pci-device-NAME" at 0x2000 of BAR4.</summary>
    public MemoryRegion DeviceRegion { get; }

    /// <summary>"virtio-pci-notify-NAME" at 0x3000 of BAR4.</summary>
    public MemoryRegion NotifyRegion { get; }

    /// <summary>Creates QEMU's <c>-device virtio-rng-pci</c>: transitional 1af4:1005, two MSI-X vectors.</summary>
    public static VirtioPci CreateRng(EntropySource? source = null) => new(new VirtioRng(source), "virtio-rng-pci");

    /// <summary>Creates what QEMU's <c>-device virtio-rng-pci,bus=ROOT-PORT</c> gives: modern-only 1af4:1044 revision
    /// 1, a PCI Express endpoint, two MSI-X vectors.</summary>
    public static VirtioPci CreateRngBehindRootPort(EntropySource? source = null) =>
        new(new VirtioRng(source), "virtio-rng-pci", mode: VirtioPciMode.ModernOnlyBehindRootPort);

    /// <summary>
    /// Where QEMU would now have an ioeventfd (virtio_pci_ioeventfd_assign), as absolute addresses: for every existing
    /// queue n, the modern doorbell BAR4 + 0x3000 + 4n (any access length: QEMU's fast MMIO, KVM_IOEVENTFD with length 0)
    /// and the legacy queue_notify port BAR0 + 0x10 (2 bytes, data n). Empty before DRIVER_OK, after reset, with the
    /// "ioeventfd" property off, or for a BAR that is not mapped.
    /// </summary>
    public IReadOnlyList<IoEventFdRequest> ActiveEventFds
    {
        get
        {
            if (!_ioEventFdStarted)
            {
                return [];
            }

            var list = new List<IoEventFdRequest>();
            foreach (Virtqueue queue in Device.Queues)
            {
                if (queue.Size == 0)
                {
                    continue;
                }

                if (Bars[ModernBar]?.MappedAddress is { } modern)
                {
                    ulong at = modern + VirtioPciRegisters.NotifyOffset + (ulong)(queue.Index * VirtioPciRegisters.NotifyOffMultiplier);
                    list.Add(new IoEventFdRequest("memory", at, 0, false, 0));
                }

                if (Bars[LegacyBar]?.MappedAddress is { } legacy)
                {
                    list.Add(new IoEventFdRequest("io", legacy + VirtioPciRegisters.LegacyQueueNotify, 2, true, (ulong)queue.Index));
                }
            }

            return list;
        }
    }

    /// <summary>The queue an entry of <see cref="ActiveEventFds"/> notifies: from the doorbell's offset (modern) or the
    /// data the legacy port write carries.</summary>
    public int QueueOf(IoEventFdRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MatchData)
        {
            return (int)request.Data;
        }

        ulong modern = Bars[ModernBar]?.MappedAddress ?? throw new ArgumentException("The modern BAR is not mapped.", nameof(request));
        return (int)((request.Address - modern - VirtioPciRegisters.NotifyOffset) / VirtioPciRegisters.NotifyOffMultiplier);
    }

    /// <summary>Raised when <see cref="ActiveEventFds"/> changed (DRIVER_OK set or cleared, reset, a BAR moved).</summary>
    public event Action<VirtioPci>? EventFdsChanged;

    /// <summary>
    /// The machine's ioeventfd for <paramref name="queue"/> fired (QEMU: <c>virtio_queue_host_notifier_read</c>): the
    /// queue is processed as if the notify write had reached the device. Out-of-range queues are ignored. Call it on the
    /// thread that dispatches the device's accesses: the device model is not thread-safe.
    /// </summary>
    public void HostNotifierFired(int queue)
    {
        if (queue is >= 0 and < VirtioSpec.QueueMax)
        {
            Device.QueueNotify(queue);
        }
    }

    /// <inheritdoc />
    public override uint ReadConfig(int offset, int size)
    {
        // QEMU: virtio_read_config: reading the window's data register first reads the modern region it points at.
        if (OverlapsConfigData(offset, size))
        {
            uint length = GetConfig32(_configCap + VirtioPciRegisters.CapLength);
            if (length is 1 or 2 or 4)
            {
                uint value = WindowRead(GetConfig32(_configCap + VirtioPciRegisters.CapOffset), (int)length);
                uint data = GetConfig32(_configCap + VirtioPciRegisters.CapExtra);
                uint mask = length == 4 ? uint.MaxValue : (1u << ((int)length * 8)) - 1;
                SetConfig32(_configCap + VirtioPciRegisters.CapExtra, (data & ~mask) | (value & mask));
            }
        }

        return base.ReadConfig(offset, size);
    }

    /// <inheritdoc />
    public override void WriteConfig(int offset, int size, uint value)
    {
        // QEMU: virtio_write_config.
        base.WriteConfig(offset, size, value);
        if (Mode == VirtioPciMode.ModernOnlyBehindRootPort)
        {
            TakeExpressFunctionLevelReset(FunctionLevelReset);
        }

        if (offset <= PciConfig.Command && offset + size > PciConfig.Command)
        {
            if (!BusMaster)
            {
                Device.Disabled = true;
                StopIoEventFd();
                Device.SetStatus((byte)(Device.Status & ~VirtioSpec.StatusDriverOk));
            }
            else
            {
                Device.Disabled = false;
            }
        }

        if (OverlapsConfigData(offset, size))
        {
            uint length = GetConfig32(_configCap + VirtioPciRegisters.CapLength);
            if (length is 1 or 2 or 4)
            {
                WindowWrite(GetConfig32(_configCap + VirtioPciRegisters.CapOffset), (int)length, GetConfig32(_configCap + VirtioPciRegisters.CapExtra));
            }
        }

        RaiseIfEventFdsChanged();
    }

    bool IVirtioTransport.DmaRead(ulong gpa, Span<byte> destination) => DmaRead(gpa, destination);

    bool IVirtioTransport.DmaWrite(ulong gpa, ReadOnlySpan<byte> source) => DmaWrite(gpa, source);

    void IVirtioTransport.Notify(ushort vector)
    {
        // QEMU: virtio_pci_notify.
        if (MsixEnabled)
        {
            if (vector != VirtioSpec.NoVector)
            {
                NotifyMsix(vector);
            }
        }
        else
        {
            SetIrq((Device.Isr & 1) != 0);
        }
    }

    // QEMU: virtio_pci_add_mem_cap via virtio_pci_modern_region_map.
    private int AddModernCapability(MemoryRegion region, int offset, byte type, int length)
    {
        ModernRegion.AddSubregion((ulong)offset, region);
        int at = AddCapability(PciConfig.CapabilityIdVendor, length);
        SetConfig8(at + 2, (byte)length);
        SetConfig8(at + VirtioPciRegisters.CapCfgType, type);
        SetConfig8(at + VirtioPciRegisters.CapBar, ModernBar);
        SetConfig32(at + VirtioPciRegisters.CapOffset, (uint)offset);
        SetConfig32(at + VirtioPciRegisters.CapLength, (uint)region.Size);
        return at;
    }

    private bool OverlapsConfigData(int offset, int size)
    {
        int data = _configCap + VirtioPciRegisters.CapExtra;
        return offset < data + 4 && data < offset + size;
    }

    // QEMU: virtio_address_space_lookup + virtio_address_space_read/write. The window's bar field is not consulted,
    // as in QEMU; the address is aligned down to the length.
    private IMemoryRegionOps? WindowLookup(ref uint offset, int length)
    {
        offset &= ~(uint)(length - 1);
        foreach ((MemoryRegion region, int start) in new[]
                 {
                     (Common, VirtioPciRegisters.CommonOffset), (IsrRegion, VirtioPciRegisters.IsrOffset),
                     (DeviceRegion, VirtioPciRegisters.DeviceOffset), (NotifyRegion, VirtioPciRegisters.NotifyOffset),
                 })
        {
            if (offset >= start && (ulong)offset + (ulong)length <= (ulong)start + region.Size)
            {
                offset -= (uint)start;
                return region.Ops;
            }
        }

        return null;
    }

    private uint WindowRead(uint offset, int length) =>
        WindowLookup(ref offset, length) is { } ops ? (uint)ops.Read(offset, length) : 0;

    private void WindowWrite(uint offset, int length, uint value) => WindowLookup(ref offset, length)?.Write(offset, length, value);

    // QEMU: virtio_pci_reset (the transport's reset when the driver writes status 0 or PFN 0).
    private void ResetTransport()
    {
        StopIoEventFd();
        Device.Reset();
        if (Vectors > 0)
        {
            MsixUnuseAllVectors();
        }

        foreach (ProxyQueue q in _proxyQueues)
        {
            q.Clear();
        }
    }

    // QEMU: pci_device_reset as an FLR runs it: the device's reset (virtio_pci_bus_reset_hold: the transport, then the
    // PCI Express fields it opened) and then pci_do_device_reset. A driver's status-0 reset goes through
    // ResetTransport alone and leaves these registers as they are (measured on QEMU 7.2: PMCSR keeps its state).
    private void FunctionLevelReset()
    {
        ResetTransport();
        ResetExpressDeviceErrors();
        ResetExpressLinkControl();
        SetConfig16(PowerManagementOffset + PowerManagementControl, 0);
        ResetStandardRegisters();
    }

    // QEMU: virtio_bus_start_ioeventfd / virtio_bus_stop_ioeventfd.
    private void StartIoEventFd()
    {
        if (_useIoEventFd && !_ioEventFdStarted)
        {
            _ioEventFdStarted = true;
            RaiseIfEventFdsChanged();
        }
    }

    private void StopIoEventFd()
    {
        if (_ioEventFdStarted)
        {
            _ioEventFdStarted = false;
            RaiseIfEventFdsChanged();
        }
    }

    private void RaiseIfEventFdsChanged()
    {
        IReadOnlyList<IoEventFdRequest> now = ActiveEventFds;
        if (now.SequenceEqual(_lastEventFds))
        {
            return;
        }

        _lastEventFds = now;
        EventFdsChanged?.Invoke(this);
    }

    // QEMU: the MSI-X vector registers of both interfaces: unuse the old vector, use the new one or NO_VECTOR.
    private ushort ChangeVector(ushort old, uint value)
    {
        if (old != VirtioSpec.NoVector)
        {
            MsixVectorUnuse(old);
        }

        if (value < (uint)Vectors)
        {
            MsixVectorUse((int)value);
            return (ushort)value;
        }

        return VirtioSpec.NoVector;
    }

    // QEMU's VirtIOPCIQueue: what the modern interface holds for a queue until the driver enables it.
    private sealed class ProxyQueue
    {
        public ushort Num;
        public bool Enabled;
        public bool Reset;
        public readonly uint[] Desc = new uint[2];
        public readonly uint[] Avail = new uint[2];
        public readonly uint[] Used = new uint[2];

        public void Clear()
        {
            Num = 0;
            Enabled = Reset = false;
            Array.Clear(Desc);
            Array.Clear(Avail);
            Array.Clear(Used);
        }

        public static ulong Join(uint[] pair) => ((ulong)pair[1] << 32) | pair[0];
    }
}
