using KvmLab.Fuzzing;
using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Tests.Fuzzing;

using Machine = KvmLab.Machine;

/// <summary>
/// What the guest fuzzer holds a run to beyond "no exception": a watchdog for runs that never come back, outcomes the
/// case could have produced, and faults that name the machine state they happened in so that a replay recreates it.
/// </summary>
[Collection(ProcessWideCollection.Name)]
public sealed class WatchdogAndOutcomeTests
{
    private static readonly byte[] Spin = [0xEB, 0xFE];                  // jmp $
    private static readonly byte[] NopNopHlt = [0xFA, 0x90, 0x90, 0xF4]; // cli; nop; nop; hlt

    private static GuestImage Image(byte[] code, CpuMode mode)
    {
        var load = PcLayout.DefaultLoadAddress(mode);
        return new GuestImage($"test-{mode}", code, load, load, mode);
    }

    private static GuestFuzzOptions Options(long runs, int workers, Func<Machine, FuzzCase, RunOptions, RunResult> runner) => new()
    {
        Seed = 1,
        Runs = runs,
        Workers = workers,
        Modes = [CpuMode.Real],
        Timeout = TestScale.Bound(TimeSpan.FromMilliseconds(50)),
        DeadlineSlack = TestScale.Bound(TimeSpan.FromMilliseconds(400)),
        Runner = runner,
    };

    private static GuestFuzzReport Session(GuestFuzzOptions options) => GuestFuzzer.Run(options, new FuzzCaseGenerator(options.Modes));

    [KvmFact]
    public void ARunThatStaysInKvmRunPastItsDeadlineIsReportedWithItsCaseAndTheSessionGoesOn()
    {
        // Case 2 spins in KVM_RUN with no deadline of its own: only the watchdog can end it.
        var report = Session(Options(6, 2, (machine, c, run) =>
        {
            if (c.Index != 2) return machine.Run(run);
            machine.Load(Image(Spin, CpuMode.Real));
            // No exit limit either: under emulation the halt checks' kicks alone would reach it before the watchdog's grace.
            return machine.Run(run with { Timeout = Timeout.InfiniteTimeSpan, MaxExits = 0 });
        }));

        var fault = Assert.Single(report.Faults);
        Assert.Equal("KVM_RUN did not return", fault.What);
        Assert.Equal(2, fault.Case!.Index);
        Assert.Equal(6, report.Runs);
        Assert.Equal(1, report.Outcomes.GetValueOrDefault(StopReason.Cancelled));
        Assert.Empty(report.Before.LeaksIn(report.After));
    }

    [KvmFact]
    public void AWorkerWhoseRunNeverComesBackIsAbandonedAndANewWorkerRunsTheRestOfItsCases()
    {
        using var release = new ManualResetEventSlim();
        var ran = new List<long>();
        var options = Options(6, 1, (machine, c, run) =>
        {
            lock (ran) ran.Add(c.Index);
            if (c.Index == 1) release.Wait(); // not in KVM_RUN and deaf to cancellation: a hung host call
            return machine.Run(run);
        });

        var report = Session(options);
        release.Set();
        // Let the abandoned worker come back and dispose its machine before the next test takes its own snapshot.
        SpinWait.SpinUntil(() => !report.Before.LeaksIn(ResourceSnapshot.Take()).Any(), TestScale.Bound(TimeSpan.FromSeconds(5)));

        Assert.Equal(["KVM_RUN did not return", "worker abandoned"], report.Faults.Where(f => f.Case is not null).Select(f => f.What).ToArray());
        Assert.All(report.Faults.Where(f => f.Case is not null), f => Assert.Equal(1, f.Case!.Index));
        Assert.Equal([0L, 1, 2, 3, 4, 5], ran.Order().ToArray());
        Assert.Equal(5, report.Runs);
        // The abandoned worker's machine was still open when the session ended: its descriptors are reported too.
        Assert.Contains(report.Faults, f => f.What == "leak");
    }

    [KvmFact]
    public void GenuineHaltsInEveryModePassAndAHaltTheGuestDidNotExecuteIsAHostFault()
    {
        // Real mode (segment base), protected mode (flat) and long mode (the loader's page tables walked) each end in
        // HLT; case 3 reports the halt one byte early, where the guest's code holds a NOP: the check must see it.
        CpuMode[] modes = [CpuMode.Real, CpuMode.Protected, CpuMode.Long, CpuMode.Long];
        var options = Options(4, 1, (machine, c, run) =>
        {
            machine.Load(Image(NopNopHlt, modes[c.Index]));
            var result = machine.Run(run);
            return c.Index == 3 ? result with { Rip = result.Rip - 1 } : result;
        });

        var report = Session(options);

        Assert.Equal(4, report.Outcomes.GetValueOrDefault(StopReason.Halted));
        var fault = Assert.Single(report.Faults);
        Assert.Equal("outcome the case cannot produce", fault.What);
        Assert.Equal(3, fault.Case!.Index);
        Assert.Contains("is 0x90, not HLT (0xf4)", fault.Detail);
    }

    [KvmFact]
    public void AFaultNamesTheCasesThatRanOnItsMachineBeforeItAndReplayRunsThemInThatOrderOnOneMachine()
    {
        var machines = new Dictionary<long, Machine>();
        var options = Options(6, 1, (machine, c, run) =>
        {
            lock (machines) machines[c.Index] = machine;
            var result = machine.Run(run);
            // Case 4 claims an exit limit it did not reach.
            return c.Index == 4 ? result with { Reason = StopReason.ExitLimit, Exits = 1 } : result;
        }) with
        { RecycleEvery = 3 };

        var report = Session(options);

        var fault = Assert.Single(report.Faults);
        Assert.Equal(4, fault.Case!.Index);
        Assert.Equal([3L], fault.Preceding);
        Assert.Contains("after case 3 on the same machine", fault.ToString());

        var order = new List<long>();
        machines.Clear();
        var replay = GuestFuzzer.Replay(options with
        {
            Runner = (machine, c, run) =>
        {
            order.Add(c.Index);
            machines[c.Index] = machine;
            return machine.Run(run);
        }
        }, new FuzzCaseGenerator(options.Modes), [5, 3, 0]);

        Assert.Equal([5L, 3, 0], order);
        Assert.Single(machines.Values.Distinct());
        Assert.Equal(3, replay.Runs);
        Assert.Equal(1, replay.Machines);
    }

    [Theory]
    [InlineData(StopReason.Timeout, 10, 5, false, "before its 50 ms deadline")]
    [InlineData(StopReason.ExitLimit, 60, 7, false, "after 7 exits with a limit of 2000")]
    [InlineData(StopReason.Cancelled, 60, 7, false, "neither the session nor the watchdog")]
    [InlineData(StopReason.Stepped, 60, 1, false, "the fuzzer sets none")]
    [InlineData(StopReason.Condition, 60, 1, false, "the fuzzer sets none")]
    public void OutcomesTheRunCannotHaveReachedAreContradictions(StopReason reason, int elapsedMs, long exits, bool cancelled, string expected)
    {
        var result = new RunResult(reason, exits, TimeSpan.FromMilliseconds(elapsedMs), null, 0x1000, "");

        var contradiction = OutcomeCheck.Contradiction(result, new GuestFuzzOptions(), cancelled, _ => null);

        Assert.NotNull(contradiction);
        Assert.Contains(expected, contradiction);
    }

    [Theory]
    [InlineData(StopReason.Timeout, 50, 5, false, null)]
    [InlineData(StopReason.ExitLimit, 10, 2000, false, null)]
    [InlineData(StopReason.Cancelled, 10, 5, true, null)]
    [InlineData(StopReason.IsaDebugExit, 1, 5, false, 0x21UL)]
    [InlineData(StopReason.Shutdown, 1, 5, false, null)]
    public void OutcomesTheRunCanReachPass(StopReason reason, int elapsedMs, long exits, bool cancelled, ulong? status)
    {
        var result = new RunResult(reason, exits, TimeSpan.FromMilliseconds(elapsedMs), status, 0x1000, "");

        Assert.Null(OutcomeCheck.Contradiction(result, new GuestFuzzOptions(), cancelled, _ => null));
    }

    [Fact]
    public void ADebugExitWithAnEvenStatusIsAContradiction()
    {
        var result = new RunResult(StopReason.IsaDebugExit, 3, TimeSpan.FromMilliseconds(1), 0x20, 0x1000, "");

        Assert.Contains("(value << 1) | 1", OutcomeCheck.Contradiction(result, new GuestFuzzOptions(), false, _ => null));
    }
}
