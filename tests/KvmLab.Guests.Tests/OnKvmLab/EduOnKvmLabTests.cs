using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class EduOnKvmLabTests
{
    private static IEnumerable<(int N, ulong Factorial)> Factorials()
    {
        ulong f = 1;
        for (var n = 1; n <= 12; n++)
            yield return (n, f *= (ulong)n);
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Edu_computes_one_to_twelve_factorial_writing_the_factorial_register_twelve_times(CpuMode mode)
    {
        using var run = GuestRun.Of(EduGuest.Build(mode));

        run.AssertSucceeded();
        Assert.Contains("edu: identification 0x010000ED\n", run.Serial);
        Assert.Contains("edu: liveness ok (wrote 0x12345678, read 0xEDCBA987)\n", run.Serial);
        foreach (var (n, f) in Factorials())
            Assert.Contains($"edu: {n}! = {f}\n", run.Serial);
        Assert.EndsWith(EduGuest.FinalLine + "\n", run.Serial);

        Assert.Equal(24, run.Accesses("edu.factorial"));
        Assert.Equal(Enumerable.Range(1, 12).Select(n => (ulong)n), run.Records("edu.factorial", TraceAccess.MmioWrite).Select(r => r.Record.Value));
        Assert.Equal(Factorials().Select(f => f.Factorial), run.Records("edu.factorial", TraceAccess.MmioRead).Select(r => r.Record.Value));
        Assert.Equal(1, run.Accesses("edu.id"));
        Assert.Equal(2, run.Accesses("edu.liveness"));
        // The busy bit is polled at least once per factorial; how often more depends on timing.
        Assert.InRange(run.Accesses("edu.status"), 12, long.MaxValue);
        Assert.Equal(run.Accesses("i440FX-pcihost.CONFIG_ADDRESS"), run.Accesses("i440FX-pcihost.CONFIG_DATA"));
        Assert.Equal(run.Registers.Where(r => r.Key.StartsWith("edu.", StringComparison.Ordinal)).Sum(r => r.Value), run.Exits("MMIO"));
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Edu_irq_handler_runs_once_per_factorial_acknowledging_each_interrupt(CpuMode mode)
    {
        using var run = GuestRun.Of(EduIrqGuest.Build(mode));

        run.AssertSucceeded();
        Assert.Contains("edu-irq: MSI capability at 0x40\n", run.Serial);
        Assert.Contains("edu-irq: MSI enabled: address 0xFEE00000, data 0x40\n", run.Serial);
        var lines = run.Serial.Split('\n');
        foreach (var (n, f) in Factorials())
        {
            var result = Array.IndexOf(lines, $"edu-irq: {n}! = {f}");
            Assert.True(result > 0, run.Serial);
            Assert.Equal("edu-irq: handler: vector 0x40, interrupt status 0x00000001", lines[result - 1]);
        }
        Assert.EndsWith(EduIrqGuest.FinalLine + "\n", run.Serial);

        Assert.Equal(12, run.Accesses("edu.irq_status"));
        Assert.Equal(12, run.Accesses("edu.irq_ack"));
        Assert.Equal(24, run.Accesses("edu.factorial"));
        Assert.Equal(12, run.Records("edu.factorial", TraceAccess.MmioWrite).Count);
        Assert.Equal(0x80UL, Assert.Single(run.Records("edu.status", TraceAccess.MmioWrite)).Record.Value);
        Assert.Equal(12, run.Machine.Interrupts.MsisSent);
    }

    [KvmFact]
    public void Edu_irq_returning_with_iretd_in_unpaged_protected_mode_works_or_is_reported_as_a_clean_internal_error()
    {
        using var run = GuestRun.Of(EduIrqGuest.Build(CpuMode.Protected, returnWithIret: true));

        // Hardware KVM runs IRETD natively; a backend that hands it to KVM's emulator (kvm_pvm) cannot complete it.
        if (run.Result.Reason == StopReason.InternalError)
        {
            Assert.Contains("INTERNAL_ERROR suberror 1 (EMULATION)", run.Result.Detail);
            Assert.Equal(1, run.Exits("INTERNAL_ERROR"));
            Assert.EndsWith("edu-irq: handler: vector 0x40, interrupt status 0x00000001\n", run.Serial);
            var handler = TrapDisassembler.Disassemble(run.Machine.Ram.GetSpan(run.Result.Rip, 1), run.Result.Rip, CpuMode.Protected, 1);
            // NASM spells the 32-bit form in 32-bit code plain "iret".
            Assert.Equal("iret", Assert.Single(handler).Text);
        }
        else
        {
            run.AssertSucceeded();
            Assert.Equal(12, run.Accesses("edu.irq_ack"));
        }
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Edu_dma_round_trip_comes_back_intact_with_two_programmed_transfers(CpuMode mode)
    {
        using var run = GuestRun.Of(EduDmaGuest.Build(mode));

        run.AssertSucceeded();
        Assert.Contains("edu-dma: RAM 0x", run.Serial);
        Assert.Contains(" -> device 0x00040000\n", run.Serial);
        Assert.Contains("edu-dma: device 0x00040000 -> RAM 0x", run.Serial);
        Assert.EndsWith($"{EduDmaGuest.VerdictOk}: {EduDmaGuest.Length} bytes came back intact\n", run.Serial);

        Assert.Equal(2, run.Accesses("edu.dma_src"));
        Assert.Equal(2, run.Accesses("edu.dma_dst"));
        Assert.Equal(2, run.Accesses("edu.dma_cnt"));
        Assert.Equal([(ulong)EduDmaGuest.Length, EduDmaGuest.Length], run.Records("edu.dma_cnt", TraceAccess.MmioWrite).Select(r => r.Record.Value));
        Assert.Equal([1UL, 3UL], run.Records("edu.dma_cmd", TraceAccess.MmioWrite).Select(r => r.Record.Value));
        // The data itself moves without a single exit: only the registers trap.
        Assert.Equal(run.Registers.Where(r => r.Key.StartsWith("edu.", StringComparison.Ordinal)).Sum(r => r.Value), run.Exits("MMIO"));
    }
}
