using KvmLab.Memory;

namespace KvmLab.Devices.Virtio;

/// <summary>
/// Register maps of the virtio-pci transport (QEMU 7.2: hw/virtio/virtio-pci.c, virtio_pci.h): the legacy I/O BAR,
/// the modern common configuration structure, and where the modern structures sit in the modern memory BAR.
/// </summary>
internal static class VirtioPciRegisters
{
    // Legacy I/O BAR ("virtio-pci", BAR0 of a transitional device). The device-specific configuration follows at
    // LegacyConfigOffset(msixEnabled).
    /// <summary>0x00 R: device features bits 31:0.</summary>
    public const int LegacyHostFeatures = 0x00;
    /// <summary>0x04 RW: driver features bits 31:0.</summary>
    public const int LegacyGuestFeatures = 0x04;
    /// <summary>0x08 RW: queue address in 4 KiB pages; 0 resets the device.</summary>
    public const int LegacyQueuePfn = 0x08;
    /// <summary>0x0C R: size of the selected queue.</summary>
    public const int LegacyQueueNum = 0x0C;
    /// <summary>0x0E RW: queue select.</summary>
    public const int LegacyQueueSel = 0x0E;
    /// <summary>0x10 W: queue notify (the queue index).</summary>
    public const int LegacyQueueNotify = 0x10;
    /// <summary>0x12 RW: device status (byte).</summary>
    public const int LegacyStatus = 0x12;
    /// <summary>0x13 R: ISR status (byte), read to clear.</summary>
    public const int LegacyIsr = 0x13;
    /// <summary>0x14 RW: configuration-change MSI-X vector (only while MSI-X is enabled).</summary>
    public const int LegacyMsiConfigVector = 0x14;
    /// <summary>0x16 RW: MSI-X vector of the selected queue (only while MSI-X is enabled).</summary>
    public const int LegacyMsiQueueVector = 0x16;

    /// <summary>Where the device-specific configuration starts in the legacy BAR (QEMU: <c>VIRTIO_PCI_CONFIG_OFF</c>).</summary>
    public static int LegacyConfigOffset(bool msixEnabled) => msixEnabled ? 24 : 20;

    /// <summary>The register map of the legacy I/O BAR.</summary>
    public static readonly RegisterMap Legacy = new(
        new Register(LegacyHostFeatures, 4, RegisterAccess.R, "host_features", "device features 31:0"),
        new Register(LegacyGuestFeatures, 4, RegisterAccess.RW, "guest_features", "driver features 31:0"),
        new Register(LegacyQueuePfn, 4, RegisterAccess.RW, "queue_pfn", "ring address >> 12; 0 resets"),
        new Register(LegacyQueueNum, 2, RegisterAccess.R, "queue_num", "size of the selected queue"),
        new Register(LegacyQueueSel, 2, RegisterAccess.RW, "queue_sel", "queue select"),
        new Register(LegacyQueueNotify, 2, RegisterAccess.W, "queue_notify", "kick queue n"),
        new Register(LegacyStatus, 1, RegisterAccess.RW, "status", "device status"),
        new Register(LegacyIsr, 1, RegisterAccess.R, "isr", "interrupt status, read clears"),
        new Register(LegacyMsiConfigVector, 2, RegisterAccess.RW, "msix_config", "config-change vector (MSI-X on)"),
        new Register(LegacyMsiQueueVector, 2, RegisterAccess.RW, "msix_queue", "selected queue's vector (MSI-X on)"));

    // Modern common configuration structure (virtio_pci_common_cfg).
    /// <summary>0x00 RW: which 32 bits of device features <see cref="CommonDeviceFeature"/> shows.</summary>
    public const int CommonDeviceFeatureSelect = 0x00;
    /// <summary>0x04 R: 32 device feature bits.</summary>
    public const int CommonDeviceFeature = 0x04;
    /// <summary>0x08 RW: which 32 bits of driver features <see cref="CommonGuestFeature"/> sets.</summary>
    public const int CommonGuestFeatureSelect = 0x08;
    /// <summary>0x0C RW: 32 driver feature bits.</summary>
    public const int CommonGuestFeature = 0x0C;
    /// <summary>0x10 RW: configuration-change MSI-X vector.</summary>
    public const int CommonMsixConfig = 0x10;
    /// <summary>0x12 R: number of queues.</summary>
    public const int CommonNumQueues = 0x12;
    /// <summary>0x14 RW: device status (byte).</summary>
    public const int CommonDeviceStatus = 0x14;
    /// <summary>0x15 R: configuration generation (byte).</summary>
    public const int CommonConfigGeneration = 0x15;
    /// <summary>0x16 RW: queue select.</summary>
    public const int CommonQueueSelect = 0x16;
    /// <summary>0x18 RW: queue size.</summary>
    public const int CommonQueueSize = 0x18;
    /// <summary>0x1A RW: queue MSI-X vector.</summary>
    public const int CommonQueueMsixVector = 0x1A;
    /// <summary>0x1C RW: queue enable (write 1).</summary>
    public const int CommonQueueEnable = 0x1C;
    /// <summary>0x1E R: queue notify offset (in units of the notify multiplier).</summary>
    public const int CommonQueueNotifyOff = 0x1E;
    /// <summary>0x20 RW: descriptor table address, low dword.</summary>
    public const int CommonQueueDescLo = 0x20;
    /// <summary>0x24 RW: descriptor table address, high dword.</summary>
    public const int CommonQueueDescHi = 0x24;
    /// <summary>0x28 RW: driver (avail) ring address, low dword.</summary>
    public const int CommonQueueAvailLo = 0x28;
    /// <summary>0x2C RW: driver (avail) ring address, high dword.</summary>
    public const int CommonQueueAvailHi = 0x2C;
    /// <summary>0x30 RW: device (used) ring address, low dword.</summary>
    public const int CommonQueueUsedLo = 0x30;
    /// <summary>0x34 RW: device (used) ring address, high dword.</summary>
    public const int CommonQueueUsedHi = 0x34;
    /// <summary>0x3A RW: queue reset (write 1; VIRTIO_F_RING_RESET).</summary>
    public const int CommonQueueReset = 0x3A;

    /// <summary>The register map of the common configuration region.</summary>
    public static readonly RegisterMap Common = new(
        new Register(CommonDeviceFeatureSelect, 4, RegisterAccess.RW, "device_feature_select", "device feature dword select"),
        new Register(CommonDeviceFeature, 4, RegisterAccess.R, "device_feature", "device features"),
        new Register(CommonGuestFeatureSelect, 4, RegisterAccess.RW, "guest_feature_select", "driver feature dword select"),
        new Register(CommonGuestFeature, 4, RegisterAccess.RW, "guest_feature", "driver features"),
        new Register(CommonMsixConfig, 2, RegisterAccess.RW, "msix_config", "config-change vector"),
        new Register(CommonNumQueues, 2, RegisterAccess.R, "num_queues", "number of queues"),
        new Register(CommonDeviceStatus, 1, RegisterAccess.RW, "device_status", "device status; 0 resets"),
        new Register(CommonConfigGeneration, 1, RegisterAccess.R, "config_generation", "config generation"),
        new Register(CommonQueueSelect, 2, RegisterAccess.RW, "queue_select", "queue select"),
        new Register(CommonQueueSize, 2, RegisterAccess.RW, "queue_size", "queue size"),
        new Register(CommonQueueMsixVector, 2, RegisterAccess.RW, "queue_msix_vector", "queue vector"),
        new Register(CommonQueueEnable, 2, RegisterAccess.RW, "queue_enable", "write 1 to enable"),
        new Register(CommonQueueNotifyOff, 2, RegisterAccess.R, "queue_notify_off", "notify offset"),
        new Register(CommonQueueDescLo, 4, RegisterAccess.RW, "queue_desc_lo", "descriptor table 31:0"),
        new Register(CommonQueueDescHi, 4, RegisterAccess.RW, "queue_desc_hi", "descriptor table 63:32"),
        new Register(CommonQueueAvailLo, 4, RegisterAccess.RW, "queue_avail_lo", "driver ring 31:0"),
        new Register(CommonQueueAvailHi, 4, RegisterAccess.RW, "queue_avail_hi", "driver ring 63:32"),
        new Register(CommonQueueUsedLo, 4, RegisterAccess.RW, "queue_used_lo", "device ring 31:0"),
        new Register(CommonQueueUsedHi, 4, RegisterAccess.RW, "queue_used_hi", "device ring 63:32"),
        new Register(CommonQueueReset, 2, RegisterAccess.RW, "queue_reset", "write 1 to reset the queue"));

    /// <summary>The register map of the ISR region.</summary>
    public static readonly RegisterMap Isr = new(new Register(0, 1, RegisterAccess.R, "isr", "bit 0 queue, bit 1 config; read clears"));

    /// <summary>The register map of the notify region (queue 0's doorbell; queue n's is at n × 4).</summary>
    public static readonly RegisterMap Notify = new(new Register(0, 2, RegisterAccess.W, "notify", "queue n doorbell at n * 4"));

    // Layout of the modern memory BAR (virtio_pci_realize) and the vendor capability types.
    /// <summary>Offset of the common configuration region in the modern BAR.</summary>
    public const int CommonOffset = 0x0000;
    /// <summary>Offset of the ISR region.</summary>
    public const int IsrOffset = 0x1000;
    /// <summary>Offset of the device configuration region.</summary>
    public const int DeviceOffset = 0x2000;
    /// <summary>Offset of the notify region.</summary>
    public const int NotifyOffset = 0x3000;
    /// <summary>Size of the common, ISR and device regions.</summary>
    public const int RegionSize = 0x1000;
    /// <summary>Bytes between two queues' doorbells (QEMU without page-per-vq: 4).</summary>
    public const int NotifyOffMultiplier = 4;
    /// <summary>Size of the notify region: a doorbell for each possible queue.</summary>
    public const int NotifySize = NotifyOffMultiplier * VirtioSpec.QueueMax;

    /// <summary>virtio_pci_cap cfg_type: common configuration.</summary>
    public const byte CapCommonCfg = 1;
    /// <summary>virtio_pci_cap cfg_type: notifications.</summary>
    public const byte CapNotifyCfg = 2;
    /// <summary>virtio_pci_cap cfg_type: ISR status.</summary>
    public const byte CapIsrCfg = 3;
    /// <summary>virtio_pci_cap cfg_type: device configuration.</summary>
    public const byte CapDeviceCfg = 4;
    /// <summary>virtio_pci_cap cfg_type: the PCI configuration access window.</summary>
    public const byte CapPciCfg = 5;

    /// <summary>Offset of cfg_type in a virtio_pci_cap.</summary>
    public const int CapCfgType = 3;
    /// <summary>Offset of bar in a virtio_pci_cap.</summary>
    public const int CapBar = 4;
    /// <summary>Offset of offset (le32) in a virtio_pci_cap.</summary>
    public const int CapOffset = 8;
    /// <summary>Offset of length (le32) in a virtio_pci_cap.</summary>
    public const int CapLength = 12;
    /// <summary>Offset of notify_off_multiplier in virtio_pci_notify_cap, and of pci_cfg_data in virtio_pci_cfg_cap.</summary>
    public const int CapExtra = 16;
}
