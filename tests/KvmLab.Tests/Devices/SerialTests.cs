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
