using KvmLab.Devices;
using KvmLab.Memory;
using KvmLab.Pci;
using KvmLab.Tests.Pci;

namespace KvmLab.Tests.Devices;

public class SerialTests
{
    private static (AddressSpace Io, Serial16550 Uart, FakeInterruptSink Irq, StringWriter Out) Make()
    {
        var io = AddressSpace.CreateIo();
        var irq = new FakeInterruptSink();
        var output = new StringWriter();
        var uart = new Serial16550(irq, PcLayout.Com1Irq, output);
        io.Root.AddSubregion(PcLayout.Com1Port, uart.Region);
        return (io, uart, irq, output);
    }

    private static ulong In(AddressSpace io, ulong reg)
    {
        io.Read(PcLayout.Com1Port + reg, 1, out ulong v);
        return v;
    }

    [Fact]
    public void Transmitted_bytes_reach_the_writer_and_the_transcript()
    {
        var (io, uart, _, output) = Make();
        foreach (char c in "hi\n")
        {
            io.Write(PcLayout.Com1Port, 1, c);
        }

        Assert.Equal("hi\n", uart.Transcript);
        Assert.Equal("hi\n", output.ToString());
        Assert.Equal(0x60UL, In(io, Serial16550.RegLineStatus));
    }

    [Fact]
    public void Pushed_input_sets_data_ready_until_read()
    {
        var (io, uart, _, _) = Make();
        uart.PushInput("ok");
        Assert.Equal(0x61UL, In(io, Serial16550.RegLineStatus));
        Assert.Equal((ulong)'o', In(io, Serial16550.RegData));
        Assert.Equal((ulong)'k', In(io, Serial16550.RegData));
        Assert.Equal(0x60UL, In(io, Serial16550.RegLineStatus));
    }

    [Fact]
    public void Dlab_switches_offsets_0_and_1_to_the_divisor_latch()
    {
        var (io, uart, _, _) = Make();
        io.Write(PcLayout.Com1Port + 3, 1, 0x83);
        io.Write(PcLayout.Com1Port + 0, 1, 0x01);
        io.Write(PcLayout.Com1Port + 1, 1, 0x00);
        io.Write(PcLayout.Com1Port + 3, 1, 0x03);
        Assert.Equal((ushort)1, uart.Divisor);
        Assert.Equal("", uart.Transcript);
        Assert.Equal(0UL, In(io, Serial16550.RegInterruptEnable));
        Assert.Equal(0x03UL, In(io, Serial16550.RegLineControl));
    }

    [Fact]
    public void Scratch_and_modem_registers_behave()
    {
        var (io, _, _, _) = Make();
        io.Write(PcLayout.Com1Port + 7, 1, 0x5A);
        Assert.Equal(0x5AUL, In(io, Serial16550.RegScratch));
        Assert.Equal(0x08UL, In(io, Serial16550.RegModemControl));
        Assert.Equal(0xB0UL, In(io, Serial16550.RegModemStatus));
        Assert.Equal(0x01UL, In(io, Serial16550.RegInterruptId));
        io.Write(PcLayout.Com1Port + 2, 1, 0x07);
        Assert.Equal(0xC1UL, In(io, Serial16550.RegInterruptId));
    }

    [Fact]
    public void Receive_interrupt_follows_ier_and_queued_input()
    {
        var (io, uart, irq, _) = Make();
        io.Write(PcLayout.Com1Port + 1, 1, 0x01);
        uart.PushInput("x");
        Assert.Equal(0x04UL, In(io, Serial16550.RegInterruptId));
        In(io, Serial16550.RegData);
        Assert.Equal([(PcLayout.Com1Irq, true), (PcLayout.Com1Irq, false)], irq.Lines);
    }

    [Fact]
    public void Transmit_empty_interrupt_is_acknowledged_by_reading_iir()
    {
        var (io, _, irq, _) = Make();
        io.Write(PcLayout.Com1Port + 1, 1, 0x02);
        Assert.True(irq.Level[PcLayout.Com1Irq]);
        Assert.Equal(0x02UL, In(io, Serial16550.RegInterruptId));
        Assert.False(irq.Level[PcLayout.Com1Irq]);
        io.Write(PcLayout.Com1Port, 1, 'a');
        Assert.True(irq.Level[PcLayout.Com1Irq]);
    }
}

public class DebugExitTests
{
    [Theory]
    [InlineData(0UL, 1UL)]
    [InlineData(1UL, 3UL)]
    [InlineData(0x31UL, 0x63UL)]
    public void A_write_requests_exit_with_value_shifted_left_or_one(ulong value, ulong status)
    {
        var io = AddressSpace.CreateIo();
        var device = new DebugExit();
        io.Root.AddSubregion(PcLayout.DebugExitPort, device.Region);
        Assert.False(device.ExitRequested);
        AccessResult r = io.Write(PcLayout.DebugExitPort, 1, value);
        Assert.True(device.ExitRequested);
        Assert.Equal(status, device.ExitStatus);
        Assert.Equal("isa-debug-exit", r.Region?.Name);
        Assert.Equal("exit", r.RegisterName);
    }
}

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
