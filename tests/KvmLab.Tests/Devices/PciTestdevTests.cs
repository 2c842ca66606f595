using KvmLab.Devices;
using KvmLab.Memory;
using KvmLab.Pci;
using KvmLab.Tests.Pci;

namespace KvmLab.Tests.Devices;

public class PciTestdevTests
{
    private const ulong MmioBar = 0xE100_0000;
    private const ulong IoBar = 0xC000;

    private static PciTestBench Mapped()
    {
        var b = new PciTestBench();
        int slot = PcLayout.PciTestdevSlot;
        b.Conf1Write(slot, 0, 0x10, 4, (uint)MmioBar);
        b.Conf1Write(slot, 0, 0x14, 4, (uint)IoBar);
        b.Conf1Write(slot, 0, 0x04, 2, PciConfig.CommandIo | PciConfig.CommandMemory);
        return b;
    }

    [Fact]
    public void Bars_have_qemu_names_and_sizes()
    {
        var b = Mapped();
        Assert.Equal("pci-testdev-mmio", b.Testdev.Bars[0]!.Region.Name);
        Assert.Equal(4096UL, b.Testdev.Bars[0]!.Size);
        Assert.Equal("pci-testdev-portio", b.Testdev.Bars[1]!.Region.Name);
        Assert.Equal(256UL, b.Testdev.Bars[1]!.Size);
        Assert.Equal(0u, b.Conf1Read(PcLayout.PciTestdevSlot, 0, PciConfig.InterruptPin, 1));
    }

    [Fact]
    public void Port_test_header_tells_where_to_write_and_counts_matching_writes()
    {
        var b = Mapped();
        b.Io.Write(IoBar, 1, 2);
        b.Io.Read(IoBar + PciTestdev.RegOffset, 4, out ulong offset);
        b.Io.Read(IoBar + PciTestdev.RegData, 1, out ulong data);
        Assert.Equal(0x85UL, offset);
        Assert.Equal((ulong)PciTestdev.DataMatch, data);
        b.Io.Write(IoBar + offset, 1, data);
        b.Io.Write(IoBar + offset, 1, data);
        b.Io.Write(IoBar + offset, 1, 0x00);
        b.Io.Read(IoBar + PciTestdev.RegCount, 4, out ulong count);
        Assert.Equal(2UL, count);
        Assert.Equal("portio-datamatch-eventfd", b.Testdev.CurrentTestName);
        Assert.Equal(new IoEventFdRequest("io", IoBar + 0x85, 1, true, PciTestdev.DataMatch), b.Testdev.ActiveEventFd);
    }

    [Fact]
    public void Mmio_no_eventfd_test_counts_writes_of_its_data_and_asks_for_no_eventfd()
    {
        var b = Mapped();
        b.Memory.Write(MmioBar, 1, 0);
        b.Memory.Read(MmioBar + PciTestdev.RegOffset, 4, out ulong offset);
        Assert.Equal(0x800UL, offset);
        b.Memory.Write(MmioBar + offset, 1, 0x12);
        b.Memory.Write(MmioBar + offset, 1, PciTestdev.DataMatch);
        Assert.Equal(1u, b.Testdev.Count);
        Assert.Null(b.Testdev.ActiveEventFd);
        b.Memory.Read(MmioBar + PciTestdev.RegName, 4, out ulong name);
        Assert.Equal("mmio"u8.ToArray(), BitConverter.GetBytes((uint)name));
    }

    [Fact]
    public void Selecting_an_unknown_test_stops_the_current_one()
    {
        var b = Mapped();
        b.Memory.Write(MmioBar, 1, 1);
        Assert.Equal(1, b.Testdev.CurrentTest);
        b.Memory.Write(MmioBar, 1, 9);
        Assert.Equal(-1, b.Testdev.CurrentTest);
        b.Memory.Read(MmioBar + PciTestdev.RegOffset, 4, out ulong v);
        Assert.Equal(0UL, v);
    }
}
