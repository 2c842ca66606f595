using KvmLab.Memory;
using KvmLab.Pci;

namespace KvmLab.Tests.Pci;

public class BarTests
{
    private const int Edu = PcLayout.EduSlot;
    private const int Slot = 8;

    [Fact]
    public void Sizing_a_32_bit_memory_bar_reveals_its_size_and_type()
    {
        var b = new PciTestBench();
        b.Conf1Write(Edu, 0, 0x10, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFF0_0000u, b.Conf1Read(Edu, 0, 0x10, 4));
    }

    [Fact]
    public void Sizing_an_io_bar_reveals_its_size_and_keeps_the_io_bit()
    {
        var b = new PciTestBench();
        b.Conf1Write(PcLayout.PciTestdevSlot, 0, 0x14, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FF01u, b.Conf1Read(PcLayout.PciTestdevSlot, 0, 0x14, 4));
    }

    [Fact]
    public void Sizing_a_64_bit_prefetchable_bar_takes_two_dwords()
    {
        var b = new PciTestBench();
        b.Host.Attach(new BarFunction(), Slot);
        b.EcamWrite(Slot, 0, 0x10, 4, 0xFFFF_FFFF);
        b.EcamWrite(Slot, 0, 0x14, 4, 0xFFFF_FFFF);
        Assert.Equal(0xF000_000Cu, b.EcamRead(Slot, 0, 0x10, 4));
        Assert.Equal(0xFFFF_FFFFu, b.EcamRead(Slot, 0, 0x14, 4));
        b.EcamWrite(Slot, 0, 0x18, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFF0u, b.EcamRead(Slot, 0, 0x18, 4));
    }

    [Fact]
    public void Unused_bar_slots_read_zero_and_ignore_writes()
    {
        var b = new PciTestBench();
        b.Conf1Write(Edu, 0, 0x14, 4, 0xFFFF_FFFF);
        Assert.Equal(0u, b.Conf1Read(Edu, 0, 0x14, 4));
    }

    [Fact]
    public void Memory_bar_appears_when_decoding_is_enabled_moves_and_disappears()
    {
        var b = new PciTestBench();
        b.Conf1Write(Edu, 0, 0x10, 4, 0xE000_0000);
        Assert.Empty(b.Changes);
        Assert.Equal(AccessStatus.Unassigned, b.Memory.Read(0xE000_0000, 4, out _).Status);

        b.Conf1Write(Edu, 0, 0x04, 2, PciConfig.CommandMemory);
        AccessResult hit = b.Memory.Read(0xE000_0000, 4, out ulong id);
        Assert.Equal(0x0100_00EDUL, id);
        Assert.Equal("edu-mmio", hit.Region?.Name);

        b.Conf1Write(Edu, 0, 0x10, 4, 0xE010_0000);
        Assert.Equal(AccessStatus.Unassigned, b.Memory.Read(0xE000_0000, 4, out _).Status);
        b.Memory.Read(0xE010_0000, 4, out id);
        Assert.Equal(0x0100_00EDUL, id);

        b.Conf1Write(Edu, 0, 0x04, 2, 0);
        Assert.Equal(AccessStatus.Unassigned, b.Memory.Read(0xE010_0000, 4, out _).Status);

        Assert.Equal(
            [(null, 0xE000_0000UL), (0xE000_0000UL, 0xE010_0000UL), (0xE010_0000UL, null)],
            b.Changes.Select(c => (c.OldAddress, c.NewAddress)).ToArray());
        Assert.All(b.Changes, c => Assert.Equal("memory", c.Space));
    }

    [Fact]
    public void Writing_all_ones_to_size_a_decoding_32_bit_bar_unmaps_it()
    {
        var b = new PciTestBench();
        b.MapEdu();
        b.Conf1Write(Edu, 0, 0x10, 4, 0xFFFF_FFFF);
        Assert.Null(b.Edu.Bars[0]!.MappedAddress);
        b.Conf1Write(Edu, 0, 0x10, 4, 0xE000_0000);
        Assert.Equal(0xE000_0000UL, b.Edu.Bars[0]!.MappedAddress);
    }

    [Fact]
    public void Io_bar_maps_into_the_io_space_only_with_io_decoding()
    {
        var b = new PciTestBench();
        int slot = PcLayout.PciTestdevSlot;
        b.Conf1Write(slot, 0, 0x14, 4, PcLayout.PciIoWindowBase);
        b.Conf1Write(slot, 0, 0x04, 2, PciConfig.CommandMemory);
        Assert.Null(b.Testdev.Bars[1]!.MappedAddress);
        b.Conf1Write(slot, 0, 0x04, 2, PciConfig.CommandIo);
        Assert.Equal((ulong)PcLayout.PciIoWindowBase, b.Testdev.Bars[1]!.MappedAddress);
        Assert.Equal("pci-testdev-portio", b.Io.Read(PcLayout.PciIoWindowBase, 1, out _).Region?.Name);
    }

    [Fact]
    public void Sixty_four_bit_bar_maps_above_4_gib()
    {
        var b = new PciTestBench();
        var fn = new BarFunction();
        b.Host.Attach(fn, Slot);
        b.EcamWrite(Slot, 0, 0x10, 4, 0x0000_0000);
        b.EcamWrite(Slot, 0, 0x14, 4, 0x0000_0001);
        b.EcamWrite(Slot, 0, 0x04, 2, PciConfig.CommandMemory);
        Assert.Equal(0x1_0000_0000UL, fn.Bars[0]!.MappedAddress);
        Assert.Equal("wide", b.Memory.Read(0x1_0000_0000, 4, out _).Region?.Name);
    }

    private sealed class BarFunction : PciDevice
    {
        public BarFunction()
            : base("bars", 0xBEEF, 0x0002, 0, 0x00ff, 0)
        {
            RegisterBar(0, PciBarKind.Memory64, MemoryRegion.CreateIo("wide", 0x1000_0000, new Memory.ByteStore(16)), prefetchable: true);
            RegisterBar(2, PciBarKind.Memory32, MemoryRegion.CreateIo("narrow", 16, new Memory.ByteStore(16)));
        }
    }
}
