namespace KvmLab.Devices.Virtio;

/// <summary>
/// Device status bits, feature bits and split-ring layout of the virtio 1.x specification, as QEMU 7.2 uses them
/// (include/standard-headers/linux/virtio_config.h, virtio_ring.h).
/// </summary>
internal static class VirtioSpec
{
    /// <summary>Status bit 0: the guest found the device.</summary>
    public const byte StatusAcknowledge = 0x01;
    /// <summary>Status bit 1: the guest has a driver for it.</summary>
    public const byte StatusDriver = 0x02;
    /// <summary>Status bit 2: the driver is ready; queues may be used.</summary>
    public const byte StatusDriverOk = 0x04;
    /// <summary>Status bit 3: feature negotiation is complete (virtio 1.0).</summary>
    public const byte StatusFeaturesOk = 0x08;
    /// <summary>Status bit 6: the device met a guest error and must be reset (QEMU's virtio_error sets it).</summary>
    public const byte StatusNeedsReset = 0x40;
    /// <summary>Status bit 7: the driver gave up.</summary>
    public const byte StatusFailed = 0x80;

    /// <summary>Feature bit 24: interrupt even with notifications off when the avail ring runs empty (legacy only).</summary>
    public const int FeatureNotifyOnEmpty = 24;
    /// <summary>Feature bit 27: any descriptor layout is accepted (legacy only).</summary>
    public const int FeatureAnyLayout = 27;
    /// <summary>Feature bit 28: indirect descriptor tables.</summary>
    public const int FeatureRingIndirectDesc = 28;
    /// <summary>Feature bit 29: used_event / avail_event notification suppression.</summary>
    public const int FeatureRingEventIdx = 29;
    /// <summary>Feature bit 30: QEMU's "bad feature" a guest that acks everything sets; never negotiated.</summary>
    public const int FeatureBadFeature = 30;
    /// <summary>Feature bit 32: virtio 1.0 (modern) device.</summary>
    public const int FeatureVersion1 = 32;
    /// <summary>Feature bit 33: the device is behind an IOMMU.</summary>
    public const int FeatureIommuPlatform = 33;
    /// <summary>Feature bit 34: packed rings.</summary>
    public const int FeatureRingPacked = 34;
    /// <summary>Feature bit 40: per-queue reset (QEMU 7.2's queue_reset property, on by default).</summary>
    public const int FeatureRingReset = 40;

    /// <summary>Features only a legacy interface shows (QEMU: <c>VIRTIO_LEGACY_FEATURES</c>).</summary>
    public const ulong LegacyFeatures = (1UL << FeatureNotifyOnEmpty) | (1UL << FeatureAnyLayout) | (1UL << FeatureBadFeature);

    /// <summary>Queues a device may have (QEMU: <c>VIRTIO_QUEUE_MAX</c>).</summary>
    public const int QueueMax = 1024;
    /// <summary>Largest queue size and most scatter-gather entries of one element (QEMU: <c>VIRTQUEUE_MAX_SIZE</c>).</summary>
    public const int QueueMaxSize = 1024;
    /// <summary>"No MSI-X vector" (VIRTIO_MSI_NO_VECTOR).</summary>
    public const ushort NoVector = 0xFFFF;

    /// <summary>Bytes of one split-ring descriptor: addr (8), len (4), flags (2), next (2).</summary>
    public const int DescriptorSize = 16;
    /// <summary>Descriptor flag: the chain continues at <c>next</c>.</summary>
    public const ushort DescriptorNext = 1;
    /// <summary>Descriptor flag: the buffer is device-writable.</summary>
    public const ushort DescriptorWrite = 2;
    /// <summary>Descriptor flag: the buffer is a table of descriptors.</summary>
    public const ushort DescriptorIndirect = 4;
    /// <summary>Avail ring flag: the driver does not want interrupts.</summary>
    public const ushort AvailNoInterrupt = 1;
    /// <summary>Alignment of the used ring in the legacy (PFN) layout (QEMU: <c>VIRTIO_PCI_VRING_ALIGN</c>).</summary>
    public const int LegacyRingAlign = 4096;
}
