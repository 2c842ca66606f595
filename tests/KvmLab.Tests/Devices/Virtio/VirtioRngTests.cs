using KvmLab.Devices;
using KvmLab.Devices.Virtio;
using KvmLab.Pci;
using KvmLab.Tests.Pci;

namespace KvmLab.Tests.Devices.Virtio;

public sealed class VirtioRngTests
{
    [Fact]
    public void Modern_driver_negotiates_version_1_and_event_idx_and_the_device_drops_unoffered_bits()
    {
        var bench = new VirtioBench();
        bench.MapBars();
        bench.Common(VirtioPciRegisters.CommonDeviceFeatureSelect, 4, 1);
        Assert.Equal(0x101u, bench.Common(VirtioPciRegisters.CommonDeviceFeature, 4));
        bench.Common(VirtioPciRegisters.CommonDeviceFeatureSelect, 4, 0);
        Assert.Equal(0x3000_0000u, bench.Common(VirtioPciRegisters.CommonDeviceFeature, 4));

        bench.Common(VirtioPciRegisters.CommonGuestFeatureSelect, 4, 0);
        bench.Common(VirtioPciRegisters.CommonGuestFeature, 4, 0x2000_0001); // EVENT_IDX and an unoffered bit 0
        bench.Common(VirtioPciRegisters.CommonGuestFeatureSelect, 4, 1);
        bench.Common(VirtioPciRegisters.CommonGuestFeature, 4, 1);
        Assert.Equal((1UL << 32) | (1UL << 29), bench.Rng.GuestFeatures);

        bench.Common(VirtioPciRegisters.CommonDeviceStatus, 1, 0x0B);
        bench.Common(VirtioPciRegisters.CommonGuestFeatureSelect, 4, 0);
        bench.Common(VirtioPciRegisters.CommonGuestFeature, 4, 0x1000_0000);
        Assert.Equal((1UL << 32) | (1UL << 29), bench.Rng.GuestFeatures); // refused after FEATURES_OK
    }

    [Fact]
    public void Queue_setup_through_the_common_region_reaches_the_virtqueue_only_on_enable()
    {
        var bench = new VirtioBench();
        bench.MapBars();
        bench.Common(VirtioPciRegisters.CommonQueueSelect, 2, 0);
        Assert.Equal(8u, bench.Common(VirtioPciRegisters.CommonQueueSize, 2));
        bench.Common(VirtioPciRegisters.CommonQueueSize, 2, 4);
        bench.Common(VirtioPciRegisters.CommonQueueDescLo, 4, 0x1000);
        bench.Common(VirtioPciRegisters.CommonQueueDescHi, 4, 0x2);
        bench.Common(VirtioPciRegisters.CommonQueueAvailLo, 4, 0x3000);
        bench.Common(VirtioPciRegisters.CommonQueueUsedLo, 4, 0x4000);
        Virtqueue q = bench.Rng.Queues[0];
        Assert.Equal(0UL, q.DescriptorTable);
        Assert.Equal(0u, bench.Common(VirtioPciRegisters.CommonQueueEnable, 2));

        bench.Common(VirtioPciRegisters.CommonQueueEnable, 2, 1);
        Assert.Equal(1u, bench.Common(VirtioPciRegisters.CommonQueueEnable, 2));
        Assert.Equal((0x2_0000_1000UL, 0x3000UL, 0x4000UL, 4), (q.DescriptorTable, q.AvailRing, q.UsedRing, q.Size));
        Assert.Equal(1u, bench.Common(VirtioPciRegisters.CommonNumQueues, 2));

        bench.Common(VirtioPciRegisters.CommonQueueSelect, 2, 1);
        bench.Common(VirtioPciRegisters.CommonQueueSize, 2, 8);
        Assert.Equal(0u, bench.Common(VirtioPciRegisters.CommonQueueSize, 2)); // a queue the device lacks stays absent
        Assert.Equal(1u, bench.Common(VirtioPciRegisters.CommonQueueNotifyOff, 2));
    }

    [Fact]
    public void One_request_end_to_end_fills_the_buffer_updates_the_used_ring_and_sends_the_queue_vector()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 16, VirtioSpec.DescriptorWrite);
        bench.Offer(0);
        bench.Kick();

        Assert.Equal(Enumerable.Range(0, 16).Select(i => (byte)i).ToArray(), bench.Ram.Ram.AsSpan(0x20000, 16).ToArray());
        Assert.Equal(0, bench.Ram.Ram[0x20010]);
        Assert.Equal(1, bench.UsedIdx);
        Assert.Equal((0u, 16u), bench.UsedEntry(0));
        Assert.Equal([(0xFEE0_1000UL, 0x41u)], bench.Interrupts.Messages);
        Assert.Equal(0, bench.Rng.GuestErrors);
        Assert.Equal(1, bench.Rng.Isr); // set with MSI-X too, as QEMU does
    }

    [Fact]
    public void A_chain_of_two_writable_buffers_gets_one_used_entry_with_their_total()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.WriteDescriptor(VirtioBench.Desc, 3, 0x20000, 5, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 6);
        bench.WriteDescriptor(VirtioBench.Desc, 6, 0x30000, 7, VirtioSpec.DescriptorWrite);
        bench.Offer(3);
        bench.Kick();

        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, bench.Ram.Ram.AsSpan(0x20000, 5).ToArray());
        Assert.Equal(new byte[] { 5, 6, 7, 8, 9, 10, 11 }, bench.Ram.Ram.AsSpan(0x30000, 7).ToArray());
        Assert.Equal((3u, 12u), bench.UsedEntry(0));
    }

    [Fact]
    public void An_indirect_table_is_followed()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver(low: 1u << VirtioSpec.FeatureRingIndirectDesc);
        bench.WriteDescriptor(0x40000, 0, 0x20000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 1);
        bench.WriteDescriptor(0x40000, 1, 0x20100, 4, VirtioSpec.DescriptorWrite);
        bench.WriteDescriptor(VirtioBench.Desc, 0, 0x40000, 32, VirtioSpec.DescriptorIndirect);
        bench.Offer(0);
        bench.Kick();

        Assert.Equal(new byte[] { 4, 5, 6, 7 }, bench.Ram.Ram.AsSpan(0x20100, 4).ToArray());
        Assert.Equal((0u, 8u), bench.UsedEntry(0));
    }

    [Fact]
    public void No_interrupt_flag_suppresses_the_message_but_not_the_used_ring()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.Ram.Ram[VirtioBench.Avail] = (byte)VirtioSpec.AvailNoInterrupt;
        bench.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 16, VirtioSpec.DescriptorWrite);
        bench.Offer(0);
        bench.Kick();

        Assert.Equal(1, bench.UsedIdx);
        Assert.Empty(bench.Interrupts.Messages);
    }

    [Fact]
    public void Event_idx_interrupts_only_when_the_used_index_passes_used_event()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver(low: 1u << VirtioSpec.FeatureRingEventIdx);
        // used_event (after the 8 avail entries) = 1: interrupt when used idx goes past 1, i.e. on the second buffer.
        bench.Ram.Ram[(int)VirtioBench.Avail + 4 + 16] = 1;
        for (ushort i = 0; i < 3; i++)
        {
            bench.WriteDescriptor(VirtioBench.Desc, i, 0x20000 + i * 0x100u, 4, VirtioSpec.DescriptorWrite);
        }

        bench.Offer(0);
        bench.Kick();
        int afterFirst = bench.Interrupts.Messages.Count;
        bench.Offer(1);
        bench.Kick();
        int afterSecond = bench.Interrupts.Messages.Count;

        Assert.Equal(1, afterFirst); // the first notification is always sent (signalled_used not yet valid)
        Assert.Equal(2, afterSecond);
        Assert.Equal(2, BitConverter.ToUInt16(bench.Ram.Ram, (int)VirtioBench.Used + 4 + 64)); // avail_event written by pop
    }

    [Fact]
    public void Legacy_driver_with_INTx_pfn_rings_and_ISR_read_to_clear()
    {
        var bench = new VirtioBench();
        bench.MapBars();
        ushort io = VirtioBench.LegacyBase;
        bench.Io.Write(io + 0x12u, 1, 3);
        bench.Io.Write(io + 0x04u, 4, 0);
        bench.Io.Write(io + 0x0Eu, 2, 0);
        bench.Io.Write(io + 0x08u, 4, 0x50); // rings at 0x50000: avail at 0x50080, used at 0x51000
        bench.Io.Write(io + 0x12u, 1, 7);
        bench.WriteDescriptor(0x50000, 0, 0x20000, 8, VirtioSpec.DescriptorWrite);
        bench.Ram.Ram[0x50084] = 0;
        bench.Ram.Ram[0x50082] = 1; // avail idx 1
        bench.Io.Write(io + 0x10u, 2, 0);

        Assert.Equal(1, bench.Ram.Ram[0x51002]);
        Assert.Equal(8, bench.Ram.Ram[0x51008]);
        Assert.True(bench.Interrupts.Level[11]);
        bench.Io.Read(io + 0x13u, 1, out ulong isr);
        bench.Io.Read(io + 0x13u, 1, out ulong again);
        Assert.Equal((1UL, 0UL), (isr, again));
        Assert.False(bench.Interrupts.Level[11]);
    }

    [Fact]
    public void Writing_status_0_resets_features_queues_vectors_and_stops_eventfds()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        Assert.NotEmpty(bench.Pci.ActiveEventFds);
        bench.Common(VirtioPciRegisters.CommonDeviceStatus, 1, 0);

        Assert.Equal((0UL, (byte)0), (bench.Rng.GuestFeatures, bench.Rng.Status));
        Assert.Equal(0UL, bench.Rng.Queues[0].DescriptorTable);
        Assert.Equal(0u, bench.Common(VirtioPciRegisters.CommonQueueEnable, 2));
        Assert.Equal(0u, bench.Common(VirtioPciRegisters.CommonQueueDescLo, 4));
        Assert.Equal(0xFFFFu, bench.Common(VirtioPciRegisters.CommonMsixConfig, 2));
        Assert.Equal(0xFFFFu, bench.Common(VirtioPciRegisters.CommonQueueMsixVector, 2));
        Assert.Empty(bench.Pci.ActiveEventFds);
    }

    [Fact]
    public void Eventfds_appear_at_DRIVER_OK_at_the_notify_addresses_and_firing_one_processes_the_queue()
    {
        var bench = new VirtioBench();
        var changes = 0;
        bench.Pci.EventFdsChanged += _ => changes++;
        bench.StartModernDriver();

        Assert.Equal(
            [new IoEventFdRequest("memory", VirtioBench.ModernBase + 0x3000, 0, false, 0), new IoEventFdRequest("io", 0xC010, 2, true, 0)],
            bench.Pci.ActiveEventFds);
        Assert.Equal(1, changes);

        bench.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 16, VirtioSpec.DescriptorWrite);
        bench.Offer(0);
        bench.Pci.HostNotifierFired(0);
        Assert.Equal(1, bench.UsedIdx);

        bench.ConfWrite(0x10, 4, 0xD000); // moving BAR0 moves the legacy eventfd
        Assert.Equal(2, changes);
        Assert.Contains(new IoEventFdRequest("io", 0xD010, 2, true, 0), bench.Pci.ActiveEventFds);
    }

    [Fact]
    public void With_the_ioeventfd_property_off_no_eventfd_is_offered()
    {
        var bench = new VirtioBench(useIoEventFd: false);
        bench.StartModernDriver();
        Assert.Empty(bench.Pci.ActiveEventFds);
    }

    [Fact]
    public void Clearing_bus_master_disables_the_device_and_drops_DRIVER_OK()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.ConfWrite(0x04, 2, 0x0003);

        Assert.True(bench.Rng.Disabled);
        Assert.Equal(0x0B, bench.Rng.Status);
        bench.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 16, VirtioSpec.DescriptorWrite);
        bench.Offer(0);
        bench.Kick();
        Assert.Equal(0, bench.UsedIdx);
    }

    [Fact]
    public void Modern_only_behind_a_root_port_equals_QEMU_byte_for_byte()
    {
        var pci = VirtioPci.CreateRngBehindRootPort();
        var (function, qemu) = Assert.Single(QemuReference.Dump("q35-rp1-virtio-ecam.txt"));
        Assert.Equal("01:00.0", function.Name);
        byte[] ours = Enumerable.Range(0, PciConfig.ExpressSize / 4).SelectMany(d => BitConverter.GetBytes(pci.ReadConfig(d * 4, 4))).ToArray();

        // No expected differences in all 4 KiB: 1af4:1044 revision 1, subsystem 1af4:1100, no BAR0, the list
        // 0xdc (MSI-X) -> 0xc8 -> 0xb4 -> 0xa4 -> 0x94 -> 0x84 (virtio) -> 0x7c (PM) -> 0x40 (PCI Express), empty 0x100.
        Assert.Equal(Convert.ToHexString(qemu), Convert.ToHexString(ours));
        Assert.Null(pci.Bars[VirtioPci.LegacyBar]);
        Assert.Null(pci.Legacy);
    }

    [Fact]
    public void Modern_only_writable_bits_and_side_effects_replay_QEMUs_probe()
    {
        var pci = VirtioPci.CreateRngBehindRootPort();
        var differences = new List<string>();
        foreach (var line in QemuReference.Probe("q35-rp1-virtio-probe-ecam.txt"))
        {
            uint reset = pci.ReadConfig(line.Offset, 4);
            pci.WriteConfig(line.Offset, 4, uint.MaxValue);
            uint ones = pci.ReadConfig(line.Offset, 4);
            pci.WriteConfig(line.Offset, 4, 0);
            uint zeros = pci.ReadConfig(line.Offset, 4);
            pci.WriteConfig(line.Offset, 4, reset);
            uint restored = pci.ReadConfig(line.Offset, 4);
            if ((reset, ones, zeros, restored) != (line.Reset, line.AfterOnes, line.AfterZeros, line.Restored))
            {
                differences.Add($"0x{line.Offset:x3}: kvmlab {reset:x8} {ones:x8} {zeros:x8} {restored:x8}, " +
                    $"qemu {line.Reset:x8} {line.AfterOnes:x8} {line.AfterZeros:x8} {line.Restored:x8}");
            }
        }

        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void Function_level_reset_clears_what_a_driver_reset_keeps_as_QEMU_does()
    {
        // Measured on QEMU 7.2 through HMP (qemu-virtio-rng-pci-modern.flr.txt): PMCSR D3, correctable error reporting
        // and extended synch set, interrupt line 0x0b, the access window pointed at device_status. A driver's status-0
        // write through the window keeps all of them; initiate-FLR clears them but the window.
        var pci = VirtioPci.CreateRngBehindRootPort();
        int pmcsr = VirtioPci.PowerManagementOffset + 4, control = VirtioPci.ExpressOffset + PcieCapability.DeviceControl;
        int link = VirtioPci.ExpressOffset + PcieCapability.LinkControl, window = 0xC8;
        pci.WriteConfig(pmcsr, 4, 3);
        pci.WriteConfig(control, 4, 1);
        pci.WriteConfig(link, 4, 0x80);
        pci.WriteConfig(PciConfig.InterruptLine, 4, 0x10B);
        pci.WriteConfig(window + 4, 4, VirtioPci.ModernBar);
        pci.WriteConfig(window + 8, 4, VirtioPciRegisters.CommonDeviceStatus);
        pci.WriteConfig(window + 12, 4, 1);
        pci.WriteConfig(window + 16, 4, 1);
        Assert.Equal(1u, pci.ReadConfig(window + 16, 4));
        pci.WriteConfig(window + 16, 4, 0);
        Assert.Equal(0u, pci.ReadConfig(window + 16, 4));
        Assert.Equal((3u, 1u, 0x0011_0080u), (pci.ReadConfig(pmcsr, 4), pci.ReadConfig(control, 4), pci.ReadConfig(link, 4)));

        pci.WriteConfig(control, 4, PcieCapability.DeviceControlInitiateFunctionLevelReset);

        Assert.Equal((0u, 0u, 0x0011_0000u), (pci.ReadConfig(pmcsr, 4), pci.ReadConfig(control, 4), pci.ReadConfig(link, 4)));
        Assert.Equal(0x100u, pci.ReadConfig(PciConfig.InterruptLine, 4));
        Assert.Equal((uint)VirtioPciRegisters.CommonDeviceStatus, pci.ReadConfig(window + 8, 4));
    }
}
