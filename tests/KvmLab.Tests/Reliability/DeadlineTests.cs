using System.Diagnostics;
using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Tests.Reliability;

using Machine = KvmLab.Machine;

/// <summary>A guest that never exits is stopped on time, every time, by the deadline and by cancellation; the machine stays usable.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed class DeadlineTests
{
    // Generous: these prove liveness, not latency (the kicker normally stops a run within a millisecond).
    private static readonly TimeSpan Late = TestScale.Bound(TimeSpan.FromMilliseconds(500));

    private static readonly GuestImage Spin = new("spin", [0xEB, 0xFE], PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real);

    private static readonly GuestImage Exit = new("exit", [0xBA, 0x01, 0x05, 0xB0, 0x10, 0xEE, 0xF4],
        PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real);

    [KvmFact]
    public void ASpinningGuestIsStoppedAtItsDeadlineTwoHundredTimesAndTheMachineStaysUsable()
    {
        using var machine = Machine.Boot(Spin);
        var timeout = TimeSpan.FromMilliseconds(5);
        for (int i = 0; i < TestScale.Count(200, 20); i++)
        {
            var result = machine.Run(timeout);
            Assert.Equal(StopReason.Timeout, result.Reason);
            Assert.True(result.Elapsed < timeout + Late, $"run {i} took {result.Elapsed.TotalMilliseconds:F1} ms");
        }

        machine.Load(Exit);
        Assert.Equal(StopReason.IsaDebugExit, machine.Run(TimeSpan.FromSeconds(5)).Reason);
    }

    [KvmFact]
    public void CancellingTheTokenStopsASpinningGuestEveryTimeAndTheNextRunWorks()
    {
        using var machine = Machine.Boot(Spin);
        for (int i = 0; i < TestScale.Count(50, 10); i++)
        {
            using var cancel = new CancellationTokenSource();
            long cancelledAt = 0;
            // A thread of its own, as a notebook kernel's interrupt handler: a thread-pool timer could be starved.
            var canceller = new Thread(() =>
            {
                Thread.Sleep(5);
                cancelledAt = Stopwatch.GetTimestamp();
                cancel.Cancel();
            });
            canceller.Start();
            var result = machine.Run(new RunOptions { Timeout = Timeout.InfiniteTimeSpan, Cancellation = cancel.Token });
            var returnedAt = Stopwatch.GetTimestamp();
            canceller.Join();

            Assert.Equal(StopReason.Cancelled, result.Reason);
            Assert.True(Stopwatch.GetElapsedTime(cancelledAt, returnedAt) < Late, $"run {i} returned {Stopwatch.GetElapsedTime(cancelledAt, returnedAt).TotalMilliseconds:F1} ms after Cancel");
        }

        machine.Load(Exit);
        Assert.Equal(StopReason.IsaDebugExit, machine.Run(TimeSpan.FromSeconds(5)).Reason);
    }

    [KvmFact]
    public void AnAlreadyCancelledTokenEndsTheRunAtOnce()
    {
        using var machine = Machine.Boot(Spin);

        var result = machine.Run(new RunOptions { Timeout = Timeout.InfiniteTimeSpan, Cancellation = new CancellationToken(canceled: true) });

        Assert.Equal(StopReason.Cancelled, result.Reason);
        Assert.True(result.Elapsed < Late);
    }

    [KvmFact]
    public void CancellingFromAnotherThreadWhileTheGuestSpinsStopsIt()
    {
        using var machine = Machine.Boot(Spin);
        using var cancel = new CancellationTokenSource();

        var run = Task.Run(() => machine.Run(new RunOptions { Timeout = Timeout.InfiniteTimeSpan, Cancellation = cancel.Token }));
        Thread.Sleep(50);
        cancel.Cancel();

        Assert.True(run.Wait(TimeSpan.FromSeconds(5)), "the run did not return after cancellation");
        Assert.Equal(StopReason.Cancelled, run.Result.Reason);
    }

    [KvmFact]
    public void StepOnASpinningGuestReturnsAtItsTimeout()
    {
        using var machine = Machine.Boot(Spin);
        var started = Stopwatch.GetTimestamp();

        machine.Step(TimeSpan.FromMilliseconds(10));

        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(10) + Late);
        Assert.Equal(StopReason.Timeout, machine.LastStop);
    }
}
