using System.Buffers.Binary;

namespace KvmLab.Devices.Virtio;

/// <summary>
/// A split virtqueue (QEMU 7.2: <c>VirtQueue</c> in hw/virtio/virtio.c): the descriptor table, the driver's avail ring
/// and the device's used ring, all in guest memory and reached only through the transport's DMA. Whatever the guest
/// wrote there is checked before use; a bad index, length, loop or address is a guest error
/// (<see cref="VirtioDevice.GuestError"/>), never an exception.
/// </summary>
internal sealed class Virtqueue
{
    private readonly VirtioDevice _device;
    private ushort _shadowAvailIndex;
    private ushort _signalledUsed;
    private bool _signalledUsedValid;

    internal Virtqueue(VirtioDevice device, int index, int defaultSize, Action<Virtqueue>? handler)
    {
        _device = device;
        Index = index;
        DefaultSize = defaultSize;
        Size = defaultSize;
        Handler = handler;
    }

    /// <summary>Queue index.</summary>
    public int Index { get; }

    /// <summary>Size the device offers (0: the queue does not exist).</summary>
    public int DefaultSize { get; }

    /// <summary>Current size (QEMU: <c>vring.num</c>).</summary>
    public int Size { get; private set; }

    /// <summary>Guest-physical address of the descriptor table (0: not set up).</summary>
    public ulong DescriptorTable { get; private set; }

    /// <summary>Guest-physical address of the avail (driver) ring.</summary>
    public ulong AvailRing { get; private set; }

    /// <summary>Guest-physical address of the used (device) ring.</summary>
    public ulong UsedRing { get; private set; }

    /// <summary>MSI-X vector of the queue.</summary>
    public ushort Vector { get; internal set; } = VirtioSpec.NoVector;

    /// <summary>The next avail ring entry the device will take.</summary>
    public ushort LastAvailIndex { get; private set; }

    /// <summary>The device's used index.</summary>
    public ushort UsedIndex { get; private set; }

    /// <summary>Elements popped but not yet pushed back.</summary>
    public int InUse { get; private set; }

    /// <summary>Whether the driver gave the rings (QEMU: <c>virtio_queue_ready</c>).</summary>
    public bool IsReady => AvailRing != 0;

    internal Action<Virtqueue>? Handler { get; }

    /// <summary>Sets the size unless that would create or remove the queue or exceed 1024 (QEMU: <c>virtio_queue_set_num</c>).</summary>
    internal void SetSize(int size)
    {
        if ((size != 0) != (Size != 0) || size > VirtioSpec.QueueMaxSize || size < 0)
        {
            return;
        }

        Size = size;
    }

    /// <summary>Legacy layout from one address (QEMU: <c>virtio_queue_set_addr</c> / <c>virtio_queue_update_rings</c>):
    /// avail after the table, used at the next 4 KiB boundary.</summary>
    internal void SetLegacyAddress(ulong address)
    {
        if (Size == 0)
        {
            return;
        }

        DescriptorTable = address;
        AvailRing = address + (ulong)(Size * VirtioSpec.DescriptorSize);
        ulong availEnd = AvailRing + 4 + (ulong)(2 * Size);
        UsedRing = (availEnd + VirtioSpec.LegacyRingAlign - 1) & ~(ulong)(VirtioSpec.LegacyRingAlign - 1);
    }

    /// <summary>Modern layout, three addresses (QEMU: <c>virtio_queue_set_rings</c>).</summary>
    internal void SetRings(ulong descriptors, ulong avail, ulong used)
    {
        if (Size == 0)
        {
            return;
        }

        (DescriptorTable, AvailRing, UsedRing) = (descriptors, avail, used);
    }

    /// <summary>QEMU: <c>__virtio_queue_reset</c>.</summary>
    internal void Reset()
    {
        DescriptorTable = AvailRing = UsedRing = 0;
        LastAvailIndex = _shadowAvailIndex = UsedIndex = 0;
        Vector = VirtioSpec.NoVector;
        _signalledUsed = 0;
        _signalledUsedValid = false;
        Size = DefaultSize;
        InUse = 0;
    }

    /// <summary>Whether the avail ring has nothing new (QEMU: <c>virtio_queue_split_empty</c>).</summary>
    public bool IsEmpty()
    {
        if (_device.Disabled || AvailRing == 0)
        {
            return true;
        }

        if (_shadowAvailIndex != LastAvailIndex)
        {
            return false;
        }

        return !TryAvailIndex(out ushort index) || index == LastAvailIndex;
    }

    /// <summary>
    /// Takes the next chain off the avail ring (QEMU: <c>virtqueue_split_pop</c>), following indirect tables. Returns
    /// null when the ring is empty or the chain is bad; in the second case the device is broken (guest error).
    /// </summary>
    public VirtqueueElement? Pop()
    {
        if (IsEmpty())
        {
            return null;
        }

        if (InUse >= Size)
        {
            _device.GuestError("Virtqueue size exceeded");
            return null;
        }

        if (!TryHead(LastAvailIndex++, out uint head))
        {
            return null;
        }

        if (_device.HasFeature(VirtioSpec.FeatureRingEventIdx) && !WriteUInt16(UsedRing + 4 + (ulong)(8 * Size), LastAvailIndex))
        {
            return null;
        }

        ulong table = DescriptorTable;
        uint max = (uint)Size;
        uint i = head;
        if (!TryDescriptor(table, i, out Descriptor desc))
        {
            return null;
        }

        if ((desc.Flags & VirtioSpec.DescriptorIndirect) != 0)
        {
            if (desc.Length == 0 || desc.Length % VirtioSpec.DescriptorSize != 0)
            {
                _device.GuestError("Invalid size for indirect buffer table");
                return null;
            }

            if (!IsRam(desc.Address, desc.Length))
            {
                _device.GuestError("Cannot map indirect buffer");
                return null;
            }

            (table, max, i) = (desc.Address, desc.Length / VirtioSpec.DescriptorSize, 0);
            if (!TryDescriptor(table, i, out desc))
            {
                return null;
            }
        }

        var outs = new List<VirtqueueBuffer>();
        var ins = new List<VirtqueueBuffer>();
        uint entries = 0;
        while (true)
        {
            bool write = (desc.Flags & VirtioSpec.DescriptorWrite) != 0;
            if (!write && ins.Count > 0)
            {
                _device.GuestError("Incorrect order for descriptors");
                return null;
            }

            if (!MapDescriptor(write ? ins : outs, write ? VirtioSpec.QueueMaxSize - outs.Count : VirtioSpec.QueueMaxSize, desc))
            {
                return null;
            }

            if (++entries > max)
            {
                _device.GuestError("Looped descriptor");
                return null;
            }

            if ((desc.Flags & VirtioSpec.DescriptorNext) == 0)
            {
                break;
            }

            i = desc.Next;
            if (i >= max)
            {
                _device.GuestError($"Desc next is {i}");
                return null;
            }

            if (!TryDescriptor(table, i, out desc))
            {
                return null;
            }
        }

        InUse++;
        return new VirtqueueElement(head, outs, ins);
    }

    /// <summary>Returns <paramref name="element"/> with <paramref name="length"/> bytes written into it through the used
    /// ring (QEMU: <c>virtqueue_push</c> = virtqueue_split_fill + virtqueue_split_flush).</summary>
    public void Push(VirtqueueElement element, uint length)
    {
        ArgumentNullException.ThrowIfNull(element);
        if (UsedRing == 0)
        {
            return;
        }

        Span<byte> entry = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(entry, element.Index);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], length);
        if (!Write(UsedRing + 4 + (ulong)(8 * (UsedIndex % Size)), entry, "used"))
        {
            return;
        }

        ushort old = UsedIndex;
        ushort next = (ushort)(old + 1);
        if (!WriteUInt16(UsedRing + 2, next))
        {
            return;
        }

        UsedIndex = next;
        InUse--;
        if ((short)(next - _signalledUsed) < (ushort)(next - old))
        {
            _signalledUsedValid = false;
        }
    }

    /// <summary>
    /// Bytes the driver offers, device-writable and device-readable, counting until both limits are reached (QEMU:
    /// <c>virtqueue_split_get_avail_bytes</c>). A bad ring is a guest error and counts as nothing.
    /// </summary>
    public (uint InBytes, uint OutBytes) GetAvailBytes(uint maxIn, uint maxOut)
    {
        if (_device.Disabled || AvailRing == 0)
        {
            return (0, 0);
        }

        ushort index = LastAvailIndex;
        uint totalBuffers = 0;
        uint inTotal = 0, outTotal = 0;
        while (true)
        {
            int heads = NumHeads(index);
            if (heads < 0)
            {
                return (0, 0);
            }

            if (heads == 0)
            {
                return (inTotal, outTotal);
            }

            uint max = (uint)Size;
            ulong table = DescriptorTable;
            uint buffers = totalBuffers;
            bool indirect = false;
            if (!TryHead(index++, out uint i) || !TryDescriptor(table, i, out Descriptor desc))
            {
                return (0, 0);
            }

            if ((desc.Flags & VirtioSpec.DescriptorIndirect) != 0)
            {
                if (desc.Length == 0 || desc.Length % VirtioSpec.DescriptorSize != 0)
                {
                    _device.GuestError("Invalid size for indirect buffer table");
                    return (0, 0);
                }

                if (buffers >= max)
                {
                    _device.GuestError("Looped descriptor");
                    return (0, 0);
                }

                if (!IsRam(desc.Address, desc.Length))
                {
                    _device.GuestError("Cannot map indirect buffer");
                    return (0, 0);
                }

                (table, max, buffers, i, indirect) = (desc.Address, desc.Length / VirtioSpec.DescriptorSize, 0, 0, true);
                if (!TryDescriptor(table, i, out desc))
                {
                    return (0, 0);
                }
            }

            while (true)
            {
                if (++buffers > max)
                {
                    _device.GuestError("Looped descriptor");
                    return (0, 0);
                }

                if ((desc.Flags & VirtioSpec.DescriptorWrite) != 0)
                {
                    inTotal += desc.Length;
                }
                else
                {
                    outTotal += desc.Length;
                }

                if (inTotal >= maxIn && outTotal >= maxOut)
                {
                    return (inTotal, outTotal);
                }

                if ((desc.Flags & VirtioSpec.DescriptorNext) == 0)
                {
                    break;
                }

                i = desc.Next;
                if (i >= max)
                {
                    _device.GuestError($"Desc next is {i}");
                    return (0, 0);
                }

                if (!TryDescriptor(table, i, out desc))
                {
                    return (0, 0);
                }
            }

            totalBuffers = indirect ? totalBuffers + 1 : buffers;
        }
    }

    /// <summary>Whether the guest wants an interrupt for what was just pushed (QEMU: <c>virtio_split_should_notify</c>).</summary>
    internal bool ShouldNotify()
    {
        if (_device.HasFeature(VirtioSpec.FeatureNotifyOnEmpty) && InUse == 0 && IsEmpty())
        {
            return true;
        }

        if (!_device.HasFeature(VirtioSpec.FeatureRingEventIdx))
        {
            return TryReadUInt16(AvailRing, "avail", out ushort flags) && (flags & VirtioSpec.AvailNoInterrupt) == 0;
        }

        bool valid = _signalledUsedValid;
        _signalledUsedValid = true;
        ushort old = _signalledUsed;
        ushort next = _signalledUsed = UsedIndex;
        if (!TryReadUInt16(AvailRing + 4 + (ulong)(2 * Size), "avail", out ushort usedEvent))
        {
            return false;
        }

        // vring_need_event: the driver asked to hear once the used index passes usedEvent.
        return !valid || (ushort)(next - usedEvent - 1) < (ushort)(next - old);
    }

    /// <summary>Writes <paramref name="data"/> into the element's device-writable buffers from
    /// <paramref name="offset"/> on; returns the bytes written (QEMU: <c>iov_from_buf</c>). A DMA failure is a guest error.</summary>
    public uint WriteIn(VirtqueueElement element, ulong offset, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(element);
        uint written = 0;
        foreach (VirtqueueBuffer buffer in element.In)
        {
            if (data.IsEmpty)
            {
                break;
            }

            if (offset >= buffer.Length)
            {
                offset -= buffer.Length;
                continue;
            }

            int chunk = (int)Math.Min((ulong)data.Length, buffer.Length - offset);
            if (!_device.Transport.DmaWrite(buffer.Address + offset, data[..chunk]))
            {
                _device.GuestError("virtio: bogus descriptor or out of resources");
                return written;
            }

            written += (uint)chunk;
            data = data[chunk..];
            offset = 0;
        }

        return written;
    }

    // QEMU: virtqueue_num_heads.
    private int NumHeads(ushort index)
    {
        if (!TryAvailIndex(out ushort avail))
        {
            return -1;
        }

        ushort heads = (ushort)(avail - index);
        if (heads > Size)
        {
            _device.GuestError($"Guest moved used index from {index} to {avail}");
            return -1;
        }

        return heads;
    }

    // QEMU: virtqueue_get_head.
    private bool TryHead(ushort index, out uint head)
    {
        head = 0;
        if (!TryReadUInt16(AvailRing + 4 + (ulong)(2 * (index % Size)), "avail", out ushort value))
        {
            return false;
        }

        head = value;
        if (head >= Size)
        {
            _device.GuestError($"Guest says index {head} is available");
            return false;
        }

        return true;
    }

    // QEMU: virtqueue_map_desc. Guest RAM is one flat range per descriptor here, so a buffer is one entry; both ends
    // are checked now, and every later DMA is checked again.
    private bool MapDescriptor(List<VirtqueueBuffer> list, int maxEntries, Descriptor desc)
    {
        if (desc.Length == 0)
        {
            _device.GuestError("virtio: zero sized buffers are not allowed");
            return false;
        }

        if (list.Count >= maxEntries)
        {
            _device.GuestError("virtio: too many write descriptors in indirect table");
            return false;
        }

        if (!IsRam(desc.Address, desc.Length))
        {
            _device.GuestError("virtio: bogus descriptor or out of resources");
            return false;
        }

        list.Add(new VirtqueueBuffer(desc.Address, desc.Length));
        return true;
    }

    private bool IsRam(ulong address, uint length)
    {
        Span<byte> probe = stackalloc byte[1];
        ulong last = address + length - 1;
        return last >= address && _device.Transport.DmaRead(address, probe) && _device.Transport.DmaRead(last, probe);
    }

    private bool TryAvailIndex(out ushort index)
    {
        if (!TryReadUInt16(AvailRing + 2, "avail", out index))
        {
            return false;
        }

        _shadowAvailIndex = index;
        return true;
    }

    private bool TryDescriptor(ulong table, uint i, out Descriptor desc)
    {
        Span<byte> raw = stackalloc byte[VirtioSpec.DescriptorSize];
        desc = default;
        if (!_device.Transport.DmaRead(table + (ulong)i * VirtioSpec.DescriptorSize, raw))
        {
            _device.GuestError("Cannot map descriptor ring");
            return false;
        }

        desc = new Descriptor(BinaryPrimitives.ReadUInt64LittleEndian(raw), BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]), BinaryPrimitives.ReadUInt16LittleEndian(raw[14..]));
        return true;
    }

    private bool TryReadUInt16(ulong address, string ring, out ushort value)
    {
        Span<byte> raw = stackalloc byte[2];
        value = 0;
        if (!_device.Transport.DmaRead(address, raw))
        {
            _device.GuestError($"Cannot map {ring}");
            return false;
        }

        value = BinaryPrimitives.ReadUInt16LittleEndian(raw);
        return true;
    }

    private bool WriteUInt16(ulong address, ushort value)
    {
        Span<byte> raw = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(raw, value);
        return Write(address, raw, "used");
    }

    private bool Write(ulong address, ReadOnlySpan<byte> data, string ring)
    {
        if (_device.Transport.DmaWrite(address, data))
        {
            return true;
        }

        _device.GuestError($"Cannot map {ring}");
        return false;
    }

    private readonly record struct Descriptor(ulong Address, uint Length, ushort Flags, ushort Next);
}
