using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class BarMoveOnKvmLabTests
{
    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Moving_the_bar_and_turning_decoding_off_make_the_old_addresses_unassigned(CpuMode mode)
    {
        using var run = GuestRun.Of(BarMoveGuest.Build(mode));

        run.AssertSucceeded();
        Assert.Contains("(identification at the old address (unassigned)): 0x00000000", run.Serial);
        Assert.Contains("(identification at the new address): 0x010000ED", run.Serial);
        Assert.Contains($"(liveness, kept across the move): 0x{~EduGuest.LivenessPattern:X8}", run.Serial);
        Assert.Contains("(identification with decoding off (unassigned)): 0x00000000", run.Serial);
        Assert.Contains("(identification with decoding on again): 0x010000ED", run.Serial);

        var reads = Enumerable.Range(0, run.Machine.Trace.Count).Select(run.Machine.Trace.Resolve)
            .Where(r => r.Record.Access == TraceAccess.MmioRead).ToList();
        var unassigned = reads.Where(r => r.Record.Flags.HasFlag(ExitFlags.Unassigned)).Select(r => r.Record.Address).ToList();
        Assert.Equal([(ulong)EduRegisters.Bar0, BarMoveGuest.MovedBar0], unassigned);
        Assert.Equal(BarMoveGuest.MovedBar0, run.Machine.Edu!.Bars[0]!.MappedAddress);
        // Every one of them is a KVM_EXIT_MMIO: no memory slot backs either address, mapped or not.
        Assert.All(reads, r => Assert.Equal(KvmLab.Kvm.ExitReason.Mmio, r.Record.Reason));
    }
}
