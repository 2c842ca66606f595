using KvmLab.Memory;

namespace KvmLab.Tests.Memory;

public class AddressSpaceTests
{
    [Fact]
    public void Unassigned_memory_reads_zero_and_is_flagged()
    {
        var space = AddressSpace.CreateMemory();
        AccessResult r = space.Read(0xD000_0000, 4, out ulong value);
        Assert.Equal(0UL, value);
        Assert.Equal(AccessStatus.Unassigned, r.Status);
        Assert.Null(r.Region);
    }

    [Theory]
    [InlineData(1, 0xFFUL)]
    [InlineData(2, 0xFFFFUL)]
    [InlineData(4, 0xFFFF_FFFFUL)]
    public void Unassigned_ports_read_all_ones_of_the_access_size(int size, ulong expected)
    {
        var space = AddressSpace.CreateIo();
        AccessResult r = space.Read(0x1234, size, out ulong value);
        Assert.Equal(expected, value);
        Assert.Equal(AccessStatus.Unassigned, r.Status);
        Assert.Null(r.Region);
    }

    [Fact]
    public void Access_outside_valid_sizes_never_reaches_the_device_and_reads_zero()
    {
        var space = AddressSpace.CreateMemory();
        var store = new ByteStore(16, new AccessSizes(4, 8), new AccessSizes(4, 8));
        store.Bytes.AsSpan().Fill(0xAB);
        space.Root.AddSubregion(0x1000, MemoryRegion.CreateIo("dev", 16, store));

        AccessResult read = space.Read(0x1000, 1, out ulong value);
        AccessResult write = space.Write(0x1004, 2, 0x1111);

        Assert.Equal(0UL, value);
        Assert.Equal(AccessStatus.InvalidAccess, read.Status);
        Assert.Equal(AccessStatus.InvalidAccess, write.Status);
        Assert.Empty(store.Calls);
    }

    [Fact]
    public void Unaligned_dword_on_a_4_to_8_byte_region_splits_into_two_rejected_words()
    {
        var space = AddressSpace.CreateMemory();
        var store = new ByteStore(16, new AccessSizes(4, 8), new AccessSizes(4, 8));
        space.Root.AddSubregion(0x1000, MemoryRegion.CreateIo("dev", 16, store));

        AccessResult r = space.Read(0x1002, 4, out ulong value);

        Assert.Equal(0UL, value);
        Assert.Equal(AccessStatus.InvalidAccess, r.Status);
        Assert.Equal(2, r.Pieces);
        Assert.Empty(store.Calls);
    }

    [Fact]
    public void Dword_straddling_a_port_region_end_reads_device_bytes_then_all_ones()
    {
        // The QEMU probe's row 6: in eax from 0xCFD reads byte 0xCFD, word 0xCFE and an unassigned byte 0xD00.
        var space = AddressSpace.CreateIo();
        var store = new ByteStore(4);
        BitConverter.GetBytes(0x11E8_1234u).CopyTo(store.Bytes, 0);
        space.Root.AddSubregion(0xCFC, MemoryRegion.CreateIo("data", 4, store));

        AccessResult r = space.Read(0xCFD, 4, out ulong value);

        Assert.Equal(0xFF11_E812UL, value);
        Assert.Equal([(false, 1UL, 1), (false, 2UL, 2)], store.Calls);
        Assert.Equal(AccessStatus.Unassigned, r.Status);
        Assert.Equal(3, r.Pieces);
        Assert.Equal("data", r.Region?.Name);
        Assert.Equal(1UL, r.Offset);
    }

    [Fact]
    public void Impl_max_smaller_than_access_splits_into_device_calls()
    {
        var space = AddressSpace.CreateMemory();
        var store = new ByteStore(16, new AccessSizes(1, 8), new AccessSizes(1, 1));
        space.Root.AddSubregion(0x2000, MemoryRegion.CreateIo("bytes", 16, store));

        space.Write(0x2000, 4, 0x4433_2211);
        space.Read(0x2000, 4, out ulong value);

        Assert.Equal(0x4433_2211UL, value);
        Assert.Equal(8, store.Calls.Count);
        Assert.All(store.Calls, c => Assert.Equal(1, c.Size));
    }

    [Fact]
    public void Dispatch_names_the_register_from_the_map()
    {
        var space = AddressSpace.CreateIo();
        var map = new RegisterMap(new Register(0, 1, RegisterAccess.RW, "A", "first"), new Register(2, 2, RegisterAccess.R, "B", "second"));
        space.Root.AddSubregion(0x100, MemoryRegion.CreateIo("dev", 4, new ByteStore(4), "owner", map));

        AccessResult r = space.Read(0x103, 1, out _);
        AccessResult none = space.Read(0x101, 1, out _);

        Assert.Equal("B", r.RegisterName);
        Assert.Equal(1, r.RegisterIndex);
        Assert.Null(none.RegisterName);
        Assert.Equal(-1, none.RegisterIndex);
    }

    [Fact]
    public void Overlapping_subregions_at_the_same_priority_throw_naming_both_ranges()
    {
        var space = AddressSpace.CreateMemory();
        space.Root.AddSubregion(0x1000, MemoryRegion.CreateIo("a", 0x100, new ByteStore(0x100)));
        var ex = Assert.Throws<ArgumentException>(() => space.Root.AddSubregion(0x10F0, MemoryRegion.CreateIo("b", 0x20, new ByteStore(0x20))));
        Assert.Contains("0x10f0..+0x20", ex.Message);
        Assert.Contains("0x1000..+0x100", ex.Message);
    }

    [Fact]
    public void Region_outside_its_container_throws_naming_both_ranges()
    {
        var container = MemoryRegion.CreateContainer("box", 0x100);
        var ex = Assert.Throws<ArgumentException>(() => container.AddSubregion(0xF0, MemoryRegion.CreateIo("big", 0x20, new ByteStore(0x20))));
        Assert.Contains("0xf0..+0x20", ex.Message);
        Assert.Contains("0x0..+0x100", ex.Message);
    }

    [Fact]
    public void Zero_sized_region_throws()
    {
        Assert.Throws<ArgumentException>(() => MemoryRegion.CreateIo("empty", 0, new ByteStore(1)));
    }

    [Fact]
    public void Higher_priority_overlap_wins_and_disabling_it_uncovers_the_lower()
    {
        var space = AddressSpace.CreateMemory();
        var low = new ByteStore(0x100);
        var high = new ByteStore(0x10);
        low.Bytes.AsSpan().Fill(1);
        high.Bytes.AsSpan().Fill(2);
        space.Root.AddSubregion(0x1000, MemoryRegion.CreateIo("low", 0x100, low));
        var highRegion = MemoryRegion.CreateIo("high", 0x10, high);
        space.Root.AddSubregionOverlap(0x1008, highRegion, 1);

        space.Read(0x1008, 1, out ulong covered);
        highRegion.SetEnabled(false);
        space.Read(0x1008, 1, out ulong uncovered);

        Assert.Equal(2UL, covered);
        Assert.Equal(1UL, uncovered);
    }

    [Fact]
    public void Moving_a_region_moves_its_flat_range()
    {
        var space = AddressSpace.CreateMemory();
        var region = MemoryRegion.CreateIo("dev", 0x10, new ByteStore(0x10));
        space.Root.AddSubregion(0x1000, region);
        region.SetAddress(0x3000);

        Assert.False(space.TryFind(0x1000, out _));
        Assert.True(space.TryFind(0x3004, out FlatRange r));
        Assert.Equal(0x3000UL, r.Start);
        Assert.Equal(0x300FUL, r.Last);
    }

    [Fact]
    public void Describe_prints_the_tree_like_info_mtree()
    {
        var space = AddressSpace.CreateMemory();
        space.Root.AddSubregionOverlap(0xE000_0000, MemoryRegion.CreateIo("edu-mmio", 0x10_0000, new ByteStore(1), "edu"), 1);
        string text = space.Describe();
        Assert.Contains("address-space: memory", text);
        Assert.Contains("0000000000000000-ffffffffffffffff (prio 0, container): system", text);
        Assert.Contains("00000000e0000000-00000000e00fffff (prio 1, i/o): edu-mmio owner=edu", text);
        Assert.Contains("00000000e0000000-00000000e00fffff", space.DescribeFlat());
    }

    [Fact]
    public void Dispatch_allocates_nothing()
    {
        var memory = AddressSpace.CreateMemory();
        var io = AddressSpace.CreateIo();
        var clock = new KvmLab.Devices.DeviceClock(() => 0);
        var edu = new KvmLab.Devices.Edu(clock);
        memory.Root.AddSubregion(0xE000_0000, edu.Mmio);
        var store = new ByteStore(8) { Record = false };
        io.Root.AddSubregion(0x500, MemoryRegion.CreateIo("port", 8, store));

        ulong sum = Run(100);
        // Best of three rounds: a round may catch the runtime's own one-off work (tier-up, a lazily built static),
        // while allocating dispatch would allocate in every round.
        long fewest = long.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            sum += Run(10_000);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewest);
        Assert.NotEqual(0UL, sum);

        ulong Run(int n)
        {
            ulong s = 0;
            for (int i = 0; i < n; i++)
            {
                memory.Write(0xE000_0004, 4, (ulong)i);
                AccessResult r = memory.Read(0xE000_0004, 4, out ulong v);
                s += v + (ulong)r.RegisterIndex;
                memory.Read(0xE000_0000, 1, out v);
                io.Write(0x500, 2, v);
                io.Read(0x9000, 4, out v);
                memory.Read(0x9000_0000, 8, out v);
                s += v;
            }

            return s;
        }
    }
}
