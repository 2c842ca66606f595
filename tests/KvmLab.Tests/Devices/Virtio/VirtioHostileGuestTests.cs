using KvmLab.Devices.Virtio;

namespace KvmLab.Tests.Devices.Virtio;

/// <summary>
/// Whatever a guest writes into its rings ends in QEMU's virtio_error: DEVICE_NEEDS_RESET for a virtio 1.0 driver, a
/// configuration interrupt, the device broken until reset, the error counted; never an exception, never a DMA outside RAM.
/// </summary>
public sealed class VirtioHostileGuestTests
{
    public static TheoryData<string, Action<VirtioBench>> Cases => new()
    {
        { "buffer outside RAM", b => b.WriteDescriptor(VirtioBench.Desc, 0, 0xFFF0_0000, 16, VirtioSpec.DescriptorWrite) },
        { "buffer running off the end of RAM", b => b.WriteDescriptor(VirtioBench.Desc, 0, (1 << 20) - 8, 16, VirtioSpec.DescriptorWrite) },
        { "buffer wrapping the address space", b => b.WriteDescriptor(VirtioBench.Desc, 0, ulong.MaxValue - 3, 16, VirtioSpec.DescriptorWrite) },
        { "zero-length buffer in a chain", b =>
            {
                b.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 1);
                b.WriteDescriptor(VirtioBench.Desc, 1, 0x20100, 0, VirtioSpec.DescriptorWrite);
            }
        },
        { "chain loop", b =>
            {
                b.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 1);
                b.WriteDescriptor(VirtioBench.Desc, 1, 0x20100, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 0);
            }
        },
        { "next beyond the queue size", b => b.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 8) },
        { "readable after writable", b =>
            {
                b.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 1);
                b.WriteDescriptor(VirtioBench.Desc, 1, 0x20100, 4, 0);
            }
        },
        { "indirect table of bad size", b => b.WriteDescriptor(VirtioBench.Desc, 0, 0x40000, 15, VirtioSpec.DescriptorIndirect) },
        { "indirect table outside RAM", b => b.WriteDescriptor(VirtioBench.Desc, 0, 0x7000_0000, 32, VirtioSpec.DescriptorIndirect) },
        { "indirect table looping", b =>
            {
                b.WriteDescriptor(0x40000, 0, 0x20000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 1);
                b.WriteDescriptor(0x40000, 1, 0x20000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 0);
                b.WriteDescriptor(VirtioBench.Desc, 0, 0x40000, 32, VirtioSpec.DescriptorIndirect);
            }
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_descriptor_marks_needs_reset_without_exception(string name, Action<VirtioBench> corrupt)
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        corrupt(bench);
        bench.Offer(0);
        bench.Kick();

        AssertBroken(bench, name);
        Assert.Equal(0, bench.UsedIdx);
        Assert.DoesNotContain(bench.Ram.Ram.AsSpan(0x20000, 0x200).ToArray(), b => b != 0);
    }

    [Fact]
    public void Head_index_beyond_the_queue_size_is_a_guest_error()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.Offer(8);
        bench.Kick();
        AssertBroken(bench, "head 8");
    }

    [Fact]
    public void Avail_index_jumping_more_than_the_queue_size_is_a_guest_error()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.AvailIdx = 9;
        bench.Kick();
        AssertBroken(bench, "avail idx 9");
    }

    [Fact]
    public void A_lone_zero_length_buffer_is_left_alone_because_the_device_asks_for_zero_bytes()
    {
        // QEMU's virtio-rng pops only after virtqueue_get_avail_bytes found writable bytes; with none it never reaches
        // virtqueue_map_desc's zero-size check, so the buffer just waits. The same here.
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 0, VirtioSpec.DescriptorWrite);
        bench.Offer(0);
        bench.Kick();

        Assert.Equal((false, 0L, (ushort)0), (bench.Rng.Broken, bench.Rng.GuestErrors, bench.UsedIdx));
    }

    [Fact]
    public void Rings_outside_RAM_are_a_guest_error()
    {
        var bench = new VirtioBench();
        bench.MapBars();
        bench.Common(VirtioPciRegisters.CommonGuestFeatureSelect, 4, 1);
        bench.Common(VirtioPciRegisters.CommonGuestFeature, 4, 1);
        bench.Common(VirtioPciRegisters.CommonQueueAvailLo, 4, 0x8000_0000);
        bench.Common(VirtioPciRegisters.CommonQueueDescLo, 4, 0x1000);
        bench.Common(VirtioPciRegisters.CommonQueueUsedLo, 4, 0x2000);
        bench.Common(VirtioPciRegisters.CommonQueueEnable, 2, 1);
        bench.Common(VirtioPciRegisters.CommonDeviceStatus, 1, 0x0F);

        // The error happens inside the DRIVER_OK write (virtio-rng serves buffers from its set_status hook), so
        // virtio_set_status then stores the driver's 0x0F over DEVICE_NEEDS_RESET, as under QEMU; the configuration
        // interrupt has gone out and the device stays broken.
        Assert.True(bench.Rng.Broken);
        Assert.Equal(1, bench.Rng.GuestErrors);
        Assert.Equal("Cannot map avail", bench.Rng.LastGuestError);
        Assert.Equal(0x0F, bench.Rng.Status);
        Assert.Equal(3, bench.Rng.Isr & 3);
    }

    [Fact]
    public void A_broken_device_ignores_kicks_until_reset_and_works_after_it()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.Offer(8);
        bench.Kick();
        long errors = bench.Rng.GuestErrors;
        bench.WriteDescriptor(VirtioBench.Desc, 0, 0x20000, 4, VirtioSpec.DescriptorWrite);
        bench.Offer(0);
        bench.Kick();
        Assert.Equal((errors, (ushort)0), (bench.Rng.GuestErrors, bench.UsedIdx));

        bench.Common(VirtioPciRegisters.CommonDeviceStatus, 1, 0);
        Assert.False(bench.Rng.Broken);
        Array.Clear(bench.Ram.Ram, (int)VirtioBench.Avail, 0x2000);
        bench.Interrupts.Messages.Clear();
        bench.StartModernDriver();
        bench.Offer(0);
        bench.Kick();
        Assert.Equal(1, bench.UsedIdx);
    }

    [Fact]
    public void A_legacy_driver_sees_no_needs_reset_bit_as_under_QEMU_but_the_device_is_broken()
    {
        var bench = new VirtioBench();
        bench.MapBars();
        ushort io = VirtioBench.LegacyBase;
        bench.Io.Write(io + 0x12u, 1, 3);
        bench.Io.Write(io + 0x08u, 4, 0x50);
        bench.Io.Write(io + 0x12u, 1, 7);
        bench.Ram.Ram[0x50084] = 9; // head 9 of an 8-entry queue
        bench.Ram.Ram[0x50082] = 1;
        bench.Io.Write(io + 0x10u, 2, 0);

        Assert.True(bench.Rng.Broken);
        Assert.Equal(1, bench.Rng.GuestErrors);
        Assert.Equal(7, bench.Rng.Status);
    }

    [Fact]
    public void Queue_enable_with_a_value_other_than_1_is_a_guest_error()
    {
        var bench = new VirtioBench();
        bench.StartModernDriver();
        bench.Common(VirtioPciRegisters.CommonQueueEnable, 2, 7);
        AssertBroken(bench, "queue_enable 7");
    }

    private static void AssertBroken(VirtioBench bench, string name)
    {
        Assert.True(bench.Rng.Broken, name);
        Assert.True(bench.Rng.GuestErrors >= 1, name);
        Assert.Equal(VirtioSpec.StatusNeedsReset, bench.Rng.Status & VirtioSpec.StatusNeedsReset);
        Assert.Equal(VirtioSpec.StatusNeedsReset, (byte)bench.Common(VirtioPciRegisters.CommonDeviceStatus, 1) & VirtioSpec.StatusNeedsReset);
        Assert.Contains((0xFEE0_0000UL, 0x40u), bench.Interrupts.Messages); // the configuration vector
        Assert.Equal(3, bench.Rng.Isr & 3);
    }
}
