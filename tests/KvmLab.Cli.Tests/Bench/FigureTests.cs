using KvmLab.Cli.Bench;

using KvmLab.Cli.Commands;

namespace KvmLab.Cli.Tests.Bench;

public sealed class FigureTests
{
    [Fact]
    public void An_overhead_figure_is_the_difference_from_its_reference_and_meets_its_goal_only_within_the_limit()
    {
        // 350 ns over a 7.5 us exit: a ratio of 1.047 that a 1.05 goal would let through, 3.5x the 100 ns goal.
        var slow = Figure.OverheadAtMost("PIO exit via Machine.Run (tracing on), over C", 7850, 7500, "C KVM_RUN loop", 100);
        Assert.Equal(350, slow.Value);
        Assert.Equal(7500, slow.Reference);
        Assert.Equal(7850 / 7500.0, slow.Ratio);
        Assert.Equal("<= 100 ns over", slow.Goal);
        Assert.Equal(Verdict.Missed, slow.Verdict);

        Assert.Equal(Verdict.Met, Figure.OverheadAtMost("x", 1600, 1500, "C", 100).Verdict);
        Assert.Equal(Verdict.Met, Figure.OverheadAtMost("x", 1480, 1500, "C", 100).Verdict); // faster than C under noise
        Assert.Equal(Verdict.Missed, Figure.OverheadAtMost("x", 1601, 1500, "C", 100).Verdict);
        Assert.Equal(Verdict.NotMeasured, Figure.OverheadAtMost("x", null, 1500, "C", 100).Verdict);
        Assert.Null(Figure.OverheadAtMost("x", 1600, null, "C", 100).Value);
    }

    [Fact]
    public void Check_fails_naming_each_missed_goal_and_passes_when_every_goal_is_met_or_only_informative()
    {
        var met = Figure.OverheadAtMost("MMIO exit via Machine.Run (tracing on), over C", 1550, 1500, "C", 100);
        var info = Figure.Info("chart", 80, "ms");
        var missed = Figure.OverheadAtMost("PIO exit via Vcpu.Run alone, over C", 1600, 1500, "C", 50);
        var notMeasured = Figure.AtMost("start to halt", null, "ms", null, null, 50);

        var ok = new StringWriter();
        Assert.Equal(0, BenchCommand.Check([met, info, notMeasured], ok));
        Assert.Contains("every goal met (1 figure with a goal)", ok.ToString());

        var failed = new StringWriter();
        Assert.Equal(1, BenchCommand.Check([met, missed, info], failed));
        Assert.Contains("1 goal missed:", failed.ToString());
        Assert.Contains("PIO exit via Vcpu.Run alone, over C: 100 ns, goal <= 50 ns over", failed.ToString());
        Assert.DoesNotContain("MMIO exit", failed.ToString());
    }
}
