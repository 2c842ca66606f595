using KvmLab.Memory;
using KvmLab.Pci;

namespace KvmLab.Devices.Virtio;

// The callbacks of the transport's regions, each mirroring its QEMU 7.2 function in hw/virtio/virtio-pci.c. Each
// register answers only at its own offset (QEMU switches on the address), so a dword read at 0x10 of the common
// region returns msix_config alone, exactly as under QEMU.
internal sealed partial class VirtioPci
{
    // QEMU: virtio_ioport_read.
    private uint LegacyRegisterRead(int offset)
    {
        VirtioDevice d = Device;
        switch (offset)
        {
            case VirtioPciRegisters.LegacyHostFeatures:
                return (uint)d.HostFeatures;
            case VirtioPciRegisters.LegacyGuestFeatures:
                return (uint)d.GuestFeatures;
            case VirtioPciRegisters.LegacyQueuePfn:
                return (uint)(d.Queues[d.QueueSelect].DescriptorTable >> 12);
            case VirtioPciRegisters.LegacyQueueNum:
                return (uint)d.Queues[d.QueueSelect].Size;
            case VirtioPciRegisters.LegacyQueueSel:
                return d.QueueSelect;
            case VirtioPciRegisters.LegacyStatus:
                return d.Status;
            case VirtioPciRegisters.LegacyIsr:
                uint isr = d.ExchangeIsr();
                SetIrq(false);
                return isr;
            case VirtioPciRegisters.LegacyMsiConfigVector:
                return d.ConfigVector;
            case VirtioPciRegisters.LegacyMsiQueueVector:
                return d.Queues[d.QueueSelect].Vector;
            default:
                return uint.MaxValue;
        }
    }

    // QEMU: virtio_ioport_write.
    private void LegacyRegisterWrite(int offset, uint value)
    {
        VirtioDevice d = Device;
        switch (offset)
        {
            case VirtioPciRegisters.LegacyGuestFeatures:
                // A guest acking QEMU's bad-feature bit acks everything; it gets only the device's "bad features" (none).
                d.SetFeatures((value & (1u << VirtioSpec.FeatureBadFeature)) != 0 ? 0 : value);
                break;
            case VirtioPciRegisters.LegacyQueuePfn:
                if (value == 0)
                {
                    ResetTransport();
                }
                else
                {
                    d.Queues[d.QueueSelect].SetLegacyAddress((ulong)value << 12);
                }

                break;
            case VirtioPciRegisters.LegacyQueueSel:
                if (value < VirtioSpec.QueueMax)
                {
                    d.QueueSelect = (ushort)value;
                }

                break;
            case VirtioPciRegisters.LegacyQueueNotify:
                if (value < VirtioSpec.QueueMax)
                {
                    d.QueueNotify((int)value);
                }

                break;
            case VirtioPciRegisters.LegacyStatus:
                WriteStatus(value);
                // Linux before 2.6.34 drove the device without setting bus master; QEMU sets it for such a guest.
                if (value == (VirtioSpec.StatusAcknowledge | VirtioSpec.StatusDriver))
                {
                    base.WriteConfig(PciConfig.Command, 1, (byte)(Config[PciConfig.Command] | PciConfig.CommandBusMaster));
                }

                break;
            case VirtioPciRegisters.LegacyMsiConfigVector:
                d.ConfigVector = ChangeVector(d.ConfigVector, value);
                break;
            case VirtioPciRegisters.LegacyMsiQueueVector:
                Virtqueue q = d.Queues[d.QueueSelect];
                q.Vector = ChangeVector(q.Vector, value);
                break;
        }
    }

    // The status write both interfaces share (QEMU: VIRTIO_PCI_STATUS / VIRTIO_PCI_COMMON_STATUS).
    private void WriteStatus(uint value)
    {
        if ((value & VirtioSpec.StatusDriverOk) == 0)
        {
            StopIoEventFd();
        }

        Device.SetStatus((byte)value);
        if ((value & VirtioSpec.StatusDriverOk) != 0)
        {
            StartIoEventFd();
        }

        if (Device.Status == 0)
        {
            ResetTransport();
        }
    }

    // QEMU: virtio_pci_common_read.
    private uint CommonRead(int offset)
    {
        VirtioDevice d = Device;
        ProxyQueue pq = _proxyQueues[d.QueueSelect];
        switch (offset)
        {
            case VirtioPciRegisters.CommonDeviceFeatureSelect:
                return _deviceFeatureSelect;
            case VirtioPciRegisters.CommonDeviceFeature:
                return _deviceFeatureSelect <= 1 ? (uint)((d.HostFeatures & ~VirtioSpec.LegacyFeatures) >> (32 * (int)_deviceFeatureSelect)) : 0;
            case VirtioPciRegisters.CommonGuestFeatureSelect:
                return _guestFeatureSelect;
            case VirtioPciRegisters.CommonGuestFeature:
                return _guestFeatureSelect < 2 ? _guestFeatures[_guestFeatureSelect] : 0;
            case VirtioPciRegisters.CommonMsixConfig:
                return d.ConfigVector;
            case VirtioPciRegisters.CommonNumQueues:
                uint count = 0;
                foreach (Virtqueue queue in d.Queues)
                {
                    if (queue.Size != 0)
                    {
                        count = (uint)queue.Index + 1;
                    }
                }

                return count;
            case VirtioPciRegisters.CommonDeviceStatus:
                return d.Status;
            case VirtioPciRegisters.CommonConfigGeneration:
                return d.Generation;
            case VirtioPciRegisters.CommonQueueSelect:
                return d.QueueSelect;
            case VirtioPciRegisters.CommonQueueSize:
                return (uint)d.Queues[d.QueueSelect].Size;
            case VirtioPciRegisters.CommonQueueMsixVector:
                return d.Queues[d.QueueSelect].Vector;
            case VirtioPciRegisters.CommonQueueEnable:
                return pq.Enabled ? 1u : 0;
            case VirtioPciRegisters.CommonQueueNotifyOff:
                return d.QueueSelect;
            case VirtioPciRegisters.CommonQueueDescLo:
                return pq.Desc[0];
            case VirtioPciRegisters.CommonQueueDescHi:
                return pq.Desc[1];
            case VirtioPciRegisters.CommonQueueAvailLo:
                return pq.Avail[0];
            case VirtioPciRegisters.CommonQueueAvailHi:
                return pq.Avail[1];
            case VirtioPciRegisters.CommonQueueUsedLo:
                return pq.Used[0];
            case VirtioPciRegisters.CommonQueueUsedHi:
                return pq.Used[1];
            case VirtioPciRegisters.CommonQueueReset:
                return pq.Reset ? 1u : 0;
            default:
                return 0;
        }
    }

    // QEMU: virtio_pci_common_write.
    private void CommonWrite(int offset, uint value)
    {
        VirtioDevice d = Device;
        ProxyQueue pq = _proxyQueues[d.QueueSelect];
        Virtqueue q = d.Queues[d.QueueSelect];
        switch (offset)
        {
            case VirtioPciRegisters.CommonDeviceFeatureSelect:
                _deviceFeatureSelect = value;
                break;
            case VirtioPciRegisters.CommonGuestFeatureSelect:
                _guestFeatureSelect = value;
                break;
            case VirtioPciRegisters.CommonGuestFeature:
                if (_guestFeatureSelect < 2)
                {
                    _guestFeatures[_guestFeatureSelect] = value;
                    d.SetFeatures(((ulong)_guestFeatures[1] << 32) | _guestFeatures[0]);
                }

                break;
            case VirtioPciRegisters.CommonMsixConfig:
                d.ConfigVector = ChangeVector(d.ConfigVector, value);
                break;
            case VirtioPciRegisters.CommonDeviceStatus:
                WriteStatus(value & 0xFF);
                break;
            case VirtioPciRegisters.CommonQueueSelect:
                if (value < VirtioSpec.QueueMax)
                {
                    d.QueueSelect = (ushort)value;
                }

                break;
            case VirtioPciRegisters.CommonQueueSize:
                pq.Num = (ushort)value;
                q.SetSize(pq.Num);
                break;
            case VirtioPciRegisters.CommonQueueMsixVector:
                q.Vector = ChangeVector(q.Vector, value);
                break;
            case VirtioPciRegisters.CommonQueueEnable:
                if (value == 1)
                {
                    q.SetSize(pq.Num);
                    q.SetRings(ProxyQueue.Join(pq.Desc), ProxyQueue.Join(pq.Avail), ProxyQueue.Join(pq.Used));
                    pq.Enabled = true;
                    pq.Reset = false;
                }
                else
                {
                    d.GuestError($"wrong value for queue_enable {value:x}");
                }

                break;
            case VirtioPciRegisters.CommonQueueDescLo:
                pq.Desc[0] = value;
                break;
            case VirtioPciRegisters.CommonQueueDescHi:
                pq.Desc[1] = value;
                break;
            case VirtioPciRegisters.CommonQueueAvailLo:
                pq.Avail[0] = value;
                break;
            case VirtioPciRegisters.CommonQueueAvailHi:
                pq.Avail[1] = value;
                break;
            case VirtioPciRegisters.CommonQueueUsedLo:
                pq.Used[0] = value;
                break;
            case VirtioPciRegisters.CommonQueueUsedHi:
                pq.Used[1] = value;
                break;
            case VirtioPciRegisters.CommonQueueReset:
                if (value == 1)
                {
                    q.Reset();
                    pq.Reset = false;
                    pq.Enabled = false;
                }

                break;
        }
    }

    // QEMU: virtio_pci_config_ops (impl 1..4): the legacy registers, then the device configuration.
    private sealed class LegacyOps(VirtioPci pci) : IMemoryRegionOps
    {
        public AccessSizes Impl => new(1, 4);

        public ulong Read(ulong offset, int size)
        {
            int config = VirtioPciRegisters.LegacyConfigOffset(pci.MsixEnabled);
            return offset < (ulong)config
                ? pci.LegacyRegisterRead((int)offset)
                : pci.Device.ReadConfig((int)offset - config, size);
        }

        public void Write(ulong offset, int size, ulong value)
        {
            int config = VirtioPciRegisters.LegacyConfigOffset(pci.MsixEnabled);
            if (offset < (ulong)config)
            {
                pci.LegacyRegisterWrite((int)offset, (uint)value);
            }
            else
            {
                pci.Device.WriteConfig((int)offset - config, size, (uint)value);
            }
        }
    }

    private sealed class CommonOps(VirtioPci pci) : IMemoryRegionOps
    {
        public AccessSizes Impl => new(1, 4);

        public ulong Read(ulong offset, int size) => pci.CommonRead((int)offset);

        public void Write(ulong offset, int size, ulong value) => pci.CommonWrite((int)offset, (uint)value);
    }

    // QEMU: virtio_pci_isr_read: read to clear, and INTx drops.
    private sealed class IsrOps(VirtioPci pci) : IMemoryRegionOps
    {
        public AccessSizes Impl => new(1, 4);

        public ulong Read(ulong offset, int size)
        {
            byte isr = pci.Device.ExchangeIsr();
            pci.SetIrq(false);
            return isr;
        }

        public void Write(ulong offset, int size, ulong value)
        {
        }
    }

    // QEMU: virtio_pci_device_read / virtio_pci_device_write.
    private sealed class DeviceConfigOps(VirtioPci pci) : IMemoryRegionOps
    {
        public AccessSizes Impl => new(1, 4);

        public ulong Read(ulong offset, int size) => pci.Device.ReadConfig((int)offset, size);

        public void Write(ulong offset, int size, ulong value) => pci.Device.WriteConfig((int)offset, size, (uint)value);
    }

    // QEMU: virtio_pci_notify_read / virtio_pci_notify_write: the doorbell address names the queue.
    private sealed class NotifyOps(VirtioPci pci) : IMemoryRegionOps
    {
        public AccessSizes Impl => new(1, 4);

        public ulong Read(ulong offset, int size) => 0;

        public void Write(ulong offset, int size, ulong value)
        {
            ulong queue = offset / VirtioPciRegisters.NotifyOffMultiplier;
            if (queue < VirtioSpec.QueueMax)
            {
                pci.Device.QueueNotify((int)queue);
            }
        }
    }
}
