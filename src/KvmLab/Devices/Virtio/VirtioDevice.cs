namespace KvmLab.Devices.Virtio;

/// <summary>
/// The transport-independent half of a virtio device (QEMU 7.2: <c>VirtIODevice</c>, hw/virtio/virtio.c): features,
/// status, ISR, queues, reset, and virtio_error's "the guest broke it" state. A concrete device adds its queues and
/// handlers; a transport such as <see cref="VirtioPci"/> gives it DMA and interrupts.
/// </summary>
internal abstract class VirtioDevice
{
    private readonly Virtqueue[] _queues = new Virtqueue[VirtioSpec.QueueMax];
    private IVirtioTransport? _transport;

    /// <summary>Creates the device with QEMU's common features (DEFINE_VIRTIO_COMMON_FEATURES at their 7.2 defaults).</summary>
    /// <param name="name">QEMU's device name, e.g. "virtio-rng" (used in region names).</param>
    /// <param name="deviceId">Virtio device ID (4 for an entropy source).</param>
    /// <param name="transitionalPciDeviceId">The PCI device ID of the transitional variant (QEMU's PCI_DEVICE_ID_VIRTIO_*).</param>
    /// <param name="pciClass">PCI class and subclass (QEMU's class_id).</param>
    /// <param name="configLength">Bytes of device-specific configuration.</param>
    protected VirtioDevice(string name, ushort deviceId, ushort transitionalPciDeviceId, ushort pciClass, int configLength)
    {
        Name = name;
        DeviceId = deviceId;
        TransitionalPciDeviceId = transitionalPciDeviceId;
        PciClass = pciClass;
        ConfigLength = configLength;
        HostFeatures = (1UL << VirtioSpec.FeatureRingIndirectDesc) | (1UL << VirtioSpec.FeatureRingEventIdx) |
            (1UL << VirtioSpec.FeatureNotifyOnEmpty) | (1UL << VirtioSpec.FeatureAnyLayout) | (1UL << VirtioSpec.FeatureRingReset);
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = new Virtqueue(this, i, 0, null);
        }
    }

    /// <summary>QEMU's device name.</summary>
    public string Name { get; }

    /// <summary>Virtio device ID.</summary>
    public ushort DeviceId { get; }

    /// <summary>PCI device ID of the transitional variant.</summary>
    public ushort TransitionalPciDeviceId { get; }

    /// <summary>PCI class and subclass.</summary>
    public ushort PciClass { get; }

    /// <summary>Bytes of device-specific configuration.</summary>
    public int ConfigLength { get; }

    /// <summary>Features the device offers (QEMU: <c>host_features</c>); the transport adds its own before plugging.</summary>
    public ulong HostFeatures { get; internal set; }

    /// <summary>Features the driver accepted (QEMU: <c>guest_features</c>).</summary>
    public ulong GuestFeatures { get; private set; }

    /// <summary>Device status byte. A device's <see cref="StatusChanging"/> may store the new value early, as QEMU's
    /// set_status hooks do; <c>virtio_set_status</c> stores it again afterwards.</summary>
    public byte Status { get; protected set; }

    /// <summary>Interrupt status: bit 0 a queue, bit 1 a configuration change.</summary>
    public byte Isr { get; private set; }

    /// <summary>MSI-X vector of configuration changes.</summary>
    public ushort ConfigVector { get; internal set; } = VirtioSpec.NoVector;

    /// <summary>Selected queue.</summary>
    public ushort QueueSelect { get; internal set; }

    /// <summary>Configuration generation, bumped on every configuration-change notification.</summary>
    public byte Generation { get; private set; }

    /// <summary>Whether a guest error stopped the device until reset (QEMU: <c>broken</c>).</summary>
    public bool Broken { get; private set; }

    /// <summary>Whether the transport disabled the device (bus mastering off; QEMU: <c>disabled</c>).</summary>
    public bool Disabled { get; internal set; }

    /// <summary>Guest errors seen since creation (each a QEMU <c>virtio_error</c>); never reset.</summary>
    public long GuestErrors { get; private set; }

    /// <summary>The message of the last guest error, or null.</summary>
    public string? LastGuestError { get; private set; }

    /// <summary>The queues by index; a queue of size 0 does not exist.</summary>
    public IReadOnlyList<Virtqueue> Queues => _queues;

    /// <summary>The transport, once plugged.</summary>
    /// <exception cref="InvalidOperationException">The device is not plugged into a transport.</exception>
    public IVirtioTransport Transport => _transport ?? throw new InvalidOperationException($"{Name} is not plugged into a transport.");

    /// <summary>Whether the driver accepted feature <paramref name="bit"/> (QEMU: <c>virtio_vdev_has_feature</c>).</summary>
    public bool HasFeature(int bit) => (GuestFeatures & (1UL << bit)) != 0;

    /// <summary>
    /// A guest error (QEMU: <c>virtio_error</c>): the device stops processing until reset; a virtio 1.0 driver also sees
    /// DEVICE_NEEDS_RESET in the status and a configuration interrupt. A legacy driver sees nothing, as under QEMU.
    /// </summary>
    public void GuestError(string message)
    {
        GuestErrors++;
        LastGuestError = message;
        if (HasFeature(VirtioSpec.FeatureVersion1))
        {
            Status |= VirtioSpec.StatusNeedsReset;
            NotifyConfig();
        }

        Broken = true;
    }

    internal void Plug(IVirtioTransport transport) => _transport = transport;

    /// <summary>Adds queue <paramref name="index"/> of <paramref name="size"/> entries served by <paramref name="handler"/>
    /// (QEMU: <c>virtio_add_queue</c>).</summary>
    protected Virtqueue AddQueue(int index, int size, Action<Virtqueue> handler)
    {
        _queues[index] = new Virtqueue(this, index, size, handler);
        return _queues[index];
    }

    /// <summary>Called when the status changes, before it is stored (QEMU: <c>VirtioDeviceClass.set_status</c>).</summary>
    protected virtual void StatusChanging(byte status)
    {
    }

    /// <summary>Reads device-specific configuration (QEMU: virtio_config_read*: past the end reads all-ones).</summary>
    public virtual uint ReadConfig(int offset, int size) => uint.MaxValue;

    /// <summary>Writes device-specific configuration; past the end is ignored.</summary>
    public virtual void WriteConfig(int offset, int size, uint value)
    {
    }

    /// <summary>Accepts driver features (QEMU: <c>virtio_set_features</c>): refused once FEATURES_OK is set; bits the
    /// device does not offer are dropped. Returns false when the driver asked for more than offered or was too late.</summary>
    internal bool SetFeatures(ulong value)
    {
        if ((Status & VirtioSpec.StatusFeaturesOk) != 0)
        {
            return false;
        }

        bool bad = (value & ~HostFeatures) != 0;
        GuestFeatures = value & HostFeatures;
        return !bad;
    }

    /// <summary>QEMU: <c>virtio_set_status</c> (no IOMMU, so feature validation always passes).</summary>
    internal void SetStatus(byte value)
    {
        StatusChanging(value);
        Status = value;
    }

    /// <summary>Reads and clears the ISR (QEMU: <c>qatomic_xchg(&amp;vdev-&gt;isr, 0)</c>).</summary>
    internal byte ExchangeIsr()
    {
        byte old = Isr;
        Isr = 0;
        return old;
    }

    /// <summary>QEMU: <c>virtio_reset</c>.</summary>
    internal void Reset()
    {
        SetStatus(0);
        Broken = false;
        GuestFeatures = 0;
        QueueSelect = 0;
        Status = 0;
        Disabled = false;
        Isr = 0;
        ConfigVector = VirtioSpec.NoVector;
        NotifyVector(ConfigVector);
        foreach (Virtqueue queue in _queues)
        {
            queue.Reset();
        }
    }

    /// <summary>The driver kicked queue <paramref name="index"/> (QEMU: <c>virtio_queue_notify</c>).</summary>
    internal void QueueNotify(int index)
    {
        Virtqueue queue = _queues[index];
        if (queue.DescriptorTable == 0 || Broken)
        {
            return;
        }

        queue.Handler?.Invoke(queue);
    }

    /// <summary>Interrupts the driver for <paramref name="queue"/> if it wants one (QEMU: <c>virtio_notify</c>).</summary>
    public void Notify(Virtqueue queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        if (!queue.ShouldNotify())
        {
            return;
        }

        Isr |= 1;
        NotifyVector(queue.Vector);
    }

    /// <summary>A configuration-change interrupt (QEMU: <c>virtio_notify_config</c>).</summary>
    public void NotifyConfig()
    {
        if ((Status & VirtioSpec.StatusDriverOk) == 0)
        {
            return;
        }

        Isr |= 3;
        Generation++;
        NotifyVector(ConfigVector);
    }

    // QEMU: virtio_notify_vector.
    private void NotifyVector(ushort vector)
    {
        if (!Disabled)
        {
            _transport?.Notify(vector);
        }
    }
}
