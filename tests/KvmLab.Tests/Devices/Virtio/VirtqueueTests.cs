using System.Buffers.Binary;
using KvmLab.Devices.Virtio;

namespace KvmLab.Tests.Devices.Virtio;

/// <summary>The split ring on its own (QEMU's virtqueue_split_pop / virtqueue_push), without a device asking
/// virtqueue_get_avail_bytes first, so each of pop's own checks is the one that has to catch the guest.</summary>
public sealed class VirtqueueTests
{
    private const ulong Desc = 0x1000, Avail = 0x2000, Used = 0x3000;

    private sealed class RingDevice : VirtioDevice
    {
        public RingDevice()
            : base("ring-test", 99, 0x10FF, 0x00ff, 0)
        {
            Queue = AddQueue(0, 4, _ => { });
        }

        public Virtqueue Queue { get; }
    }

    private sealed class Transport(FakeGuestMemory ram) : IVirtioTransport
    {
        public List<ushort> Vectors { get; } = [];

        public bool DmaRead(ulong gpa, Span<byte> destination) => ram.TryRead(gpa, destination);

        public bool DmaWrite(ulong gpa, ReadOnlySpan<byte> source) => ram.TryWrite(gpa, source);

        public void Notify(ushort vector) => Vectors.Add(vector);
    }

    private readonly FakeGuestMemory _ram = new(0x10000);
    private readonly RingDevice _device = new();

    public VirtqueueTests()
    {
        _device.Plug(new Transport(_ram));
        _device.Queue.SetRings(Desc, Avail, Used);
    }

    private void Descriptor(int i, ulong address, uint length, ushort flags, ushort next = 0, ulong table = Desc)
    {
        Span<byte> d = _ram.Ram.AsSpan((int)table + i * 16, 16);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    private void Offer(params ushort[] heads)
    {
        ushort idx = BinaryPrimitives.ReadUInt16LittleEndian(_ram.Ram.AsSpan((int)Avail + 2));
        foreach (ushort head in heads)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_ram.Ram.AsSpan((int)Avail + 4 + 2 * (idx % 4)), head);
            idx++;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(_ram.Ram.AsSpan((int)Avail + 2), idx);
    }

    [Fact]
    public void Pop_collects_readable_then_writable_buffers_and_push_publishes_the_used_entry()
    {
        Descriptor(2, 0x8000, 3, VirtioSpec.DescriptorNext, next: 0);
        Descriptor(0, 0x9000, 5, VirtioSpec.DescriptorWrite);
        Offer(2);

        VirtqueueElement? e = _device.Queue.Pop();
        Assert.NotNull(e);
        Assert.Equal(2u, e.Index);
        Assert.Equal([new VirtqueueBuffer(0x8000, 3)], e.Out);
        Assert.Equal([new VirtqueueBuffer(0x9000, 5)], e.In);
        Assert.Null(_device.Queue.Pop());
        Assert.Equal(1, _device.Queue.InUse);

        _device.Queue.Push(e, 5);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(_ram.Ram.AsSpan((int)Used + 2)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(_ram.Ram.AsSpan((int)Used + 4)));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(_ram.Ram.AsSpan((int)Used + 8)));
        Assert.Equal(0, _device.Queue.InUse);
    }

    [Theory]
    [InlineData("next beyond the queue size", "Desc next is 4")]
    [InlineData("loop", "Looped descriptor")]
    [InlineData("readable after writable", "Incorrect order for descriptors")]
    [InlineData("zero length", "virtio: zero sized buffers are not allowed")]
    [InlineData("outside RAM", "virtio: bogus descriptor or out of resources")]
    [InlineData("indirect of bad size", "Invalid size for indirect buffer table")]
    [InlineData("descriptor table outside RAM", "Cannot map descriptor ring")]
    public void Pop_reports_each_bad_chain_as_QEMUs_virtio_error(string name, string message)
    {
        switch (name)
        {
            case "next beyond the queue size":
                Descriptor(0, 0x8000, 4, VirtioSpec.DescriptorNext, next: 4);
                break;
            case "loop":
                Descriptor(0, 0x8000, 4, VirtioSpec.DescriptorNext, next: 1);
                Descriptor(1, 0x8000, 4, VirtioSpec.DescriptorNext, next: 0);
                break;
            case "readable after writable":
                Descriptor(0, 0x8000, 4, VirtioSpec.DescriptorWrite | VirtioSpec.DescriptorNext, next: 1);
                Descriptor(1, 0x8000, 4, 0);
                break;
            case "zero length":
                Descriptor(0, 0x8000, 0, 0);
                break;
            case "outside RAM":
                Descriptor(0, 0x1_0000_0000, 4, 0);
                break;
            case "indirect of bad size":
                Descriptor(0, 0x8000, 17, VirtioSpec.DescriptorIndirect);
                break;
            case "descriptor table outside RAM":
                _device.Queue.SetRings(0xF000_0000, Avail, Used);
                break;
        }

        Offer(0);
        Assert.Null(_device.Queue.Pop());
        Assert.True(_device.Broken);
        Assert.Equal(message, _device.LastGuestError);
        Assert.Equal(0, _device.Queue.InUse);
    }

    [Fact]
    public void Pop_refuses_more_elements_in_flight_than_the_queue_holds()
    {
        for (ushort i = 0; i < 4; i++)
        {
            Descriptor(i, 0x8000, 4, 0);
        }

        Offer(0, 1, 2, 3);
        for (int i = 0; i < 4; i++)
        {
            Assert.NotNull(_device.Queue.Pop());
        }

        Offer(0);
        Assert.Null(_device.Queue.Pop());
        Assert.Equal("Virtqueue size exceeded", _device.LastGuestError);
    }

    [Fact]
    public void Get_avail_bytes_counts_writable_and_readable_bytes_and_stops_at_the_limits()
    {
        Descriptor(0, 0x8000, 3, VirtioSpec.DescriptorNext, next: 1);
        Descriptor(1, 0x9000, 5, VirtioSpec.DescriptorWrite);
        Descriptor(2, 0xA000, 7, VirtioSpec.DescriptorWrite);
        Offer(0, 2);
        Assert.Equal((12u, 3u), _device.Queue.GetAvailBytes(uint.MaxValue, uint.MaxValue));
        Assert.Equal((5u, 3u), _device.Queue.GetAvailBytes(4, 0));
        Assert.Equal(0, _device.Queue.LastAvailIndex);
    }
}
