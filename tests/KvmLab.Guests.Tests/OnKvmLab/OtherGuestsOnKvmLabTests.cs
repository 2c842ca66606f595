using System.Globalization;
using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class OtherGuestsOnKvmLabTests
{
    [KvmFact]
    public void Modes_prints_a_banner_from_real_protected_and_long_mode()
    {
        using var run = GuestRun.Of(ModesGuest.Build(CpuMode.Real));

        run.AssertSucceeded();
        var lines = run.Serial.Split('\n');
        Assert.Equal("modes: real mode, CS=0x1000", lines[0]);
        Assert.StartsWith("modes: protected mode, CR0=0x", lines[1]);
        var cr0 = uint.Parse(lines[1]["modes: protected mode, CR0=0x".Length..], NumberStyles.HexNumber);
        Assert.Equal(1u, cr0 & 1);
        Assert.Equal(0u, cr0 >> 31);
        Assert.StartsWith("modes: long mode, EFER=0x", lines[2]);
        var efer = uint.Parse(lines[2]["modes: long mode, EFER=0x".Length..], NumberStyles.HexNumber);
        Assert.Equal(0x500u, efer & 0x500);
        Assert.Equal(ModesGuest.FinalLine, lines[3]);
        // The mode switches are CPU state: nothing but the UART and debug-exit leaves the guest.
        Assert.Equal(2 * run.Serial.Length + 1, run.Exits("IO"));
        Assert.Equal(0, run.Exits("MMIO"));
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Pio_vs_mmio_takes_exactly_one_exit_per_write_of_each_kind(CpuMode mode)
    {
        using var run = GuestRun.Of(PioVsMmioGuest.Build(mode, 300));

        run.AssertSucceeded();
        Assert.Contains("pio-vs-mmio: pci-testdev BAR1 at port 0xC000, BAR0 at 0xE0000000\n", run.Serial);
        Assert.Equal(300, run.Records("pci-testdev.test", TraceAccess.PioWrite).Count);
        Assert.Equal(300, run.Records("pci-testdev.test", TraceAccess.MmioWrite).Count);
        Assert.Equal(300, run.Exits("MMIO"));
        Assert.Equal(run.Accesses("i440FX-pcihost.CONFIG_ADDRESS"), run.Accesses("i440FX-pcihost.CONFIG_DATA"));
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Bar_loop_writes_trap_once_each_and_the_device_answers_the_bitwise_not(CpuMode mode)
    {
        using var run = GuestRun.Of(BarLoopGuest.Build(mode, 200));

        run.AssertSucceeded();
        Assert.Contains("bar-loop: last write 0x00000001, read back 0xFFFFFFFE\n", run.Serial);
        Assert.Equal(200, run.Records("edu.liveness", TraceAccess.MmioWrite).Count);
        Assert.Equal(201, run.Exits("MMIO"));
    }
}
