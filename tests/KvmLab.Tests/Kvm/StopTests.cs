using System.Diagnostics;
using KvmLab.Kvm;
using KvmLab.Testing;

namespace KvmLab.Tests.Kvm;

[Collection(ProcessWideCollection.Name)]
public sealed class StopTests
{
    [KvmFact]
    public void ASpinningGuestIsStoppedByEveryDeadlineAThousandTimesInARow()
    {
        using var m = new TestMachine([0xEB, 0xFE]); // jmp $
        using var kicker = new VcpuKicker();
        var stops = TestScale.Count(1000, 50);
        // Each deadline is 1 ms and fires once: a kick that failed to end KVM_RUN would leave the guest spinning for
        // good. The bound tells such a loss from a busy host's scheduling delay (101 ms seen on this 2-core machine
        // with an emulator on the other core); how fast a stop is belongs to the benchmarks, not here.
        var bound = TestScale.Bound(TimeSpan.FromSeconds(2));
        for (int i = 0; i < stops; i++)
        {
            kicker.Arm(m.Vcpu, TimeSpan.FromMilliseconds(1));
            long start = Stopwatch.GetTimestamp();
            var exit = m.Run();
            var elapsed = Stopwatch.GetElapsedTime(start);
            Assert.Equal(ExitReason.Intr, exit.Reason);
            Assert.True(elapsed <= bound, $"stop {i} took {elapsed.TotalMilliseconds:F1} ms (bound {bound.TotalMilliseconds} ms)");
        }
        Assert.Equal(stops, kicker.Kicks);
    }

    [KvmFact]
    public void RequestStopFromAnotherThreadEndsRunAndTheNextRunEntersTheGuestAgain()
    {
        // out 0x80,al ; jmp $  : after the stop, the guest must continue spinning, not exit at once.
        using var m = new TestMachine([0xE6, 0x80, 0xEB, 0xFE]);
        Assert.Equal(ExitReason.Io, m.Run().Reason);
        var stopper = Task.Run(async () =>
        {
            await Task.Delay(20);
            m.Vcpu.RequestStop();
        });
        Assert.Equal(ExitReason.Intr, m.Run().Reason);
        stopper.Wait();
        Assert.Equal(2UL, m.Vcpu.Rip);

        var second = Task.Run(async () =>
        {
            await Task.Delay(30);
            m.Vcpu.RequestStop();
        });
        long start = Stopwatch.GetTimestamp();
        Assert.Equal(ExitReason.Intr, m.Run().Reason);
        Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(20), "immediate_exit was not cleared after the first stop");
        second.Wait();
    }

    [KvmFact]
    public void AStopRequestedBeforeRunMakesRunReturnAtOnce()
    {
        using var m = new TestMachine([0xEB, 0xFE]);
        m.Vcpu.RequestStop();
        Assert.Equal(ExitReason.Intr, m.Run().Reason);
    }
}
