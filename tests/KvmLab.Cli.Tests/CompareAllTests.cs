using KvmLab.Guests;
using KvmLab.Loading;

namespace KvmLab.Cli.Tests;

public class CompareAllTests
{
    [Fact]
    public void Every_guest_runs_in_every_mode_on_its_board_or_on_both()
    {
        var plan = CompareAll.Plan(GuestLibrary.All);

        foreach (var guest in GuestLibrary.All)
        {
            var boards = guest.Board is { } b ? new[] { b } : ["pc", "q35"];
            foreach (var mode in guest.Modes)
                foreach (var board in boards)
                    Assert.Single(plan, c => c.Guest == guest && c.Mode == mode && c.Board.Name == board);
        }
        Assert.Equal(GuestLibrary.All.Sum(g => g.Modes.Count * (g.Board is null ? 2 : 1)), plan.Count);
        Assert.Contains(plan, c => c.Guest.Name == "virtio-rng" && c.Board.Name == "q35");
        Assert.DoesNotContain(plan, c => c.Guest.Name == "pcie-scan" && c.Board.Name == "pc");
    }

    [Fact]
    public void One_divergence_or_failure_makes_the_verdict_diverge_and_names_the_case()
    {
        var plan = CompareAll.Plan(GuestLibrary.All.Where(g => g.Name is "hello" or "pcie-scan")).ToList();
        var output = new StringWriter();

        var status = CompareAll.Run(plan, c => c.Guest.Name == "pcie-scan" && c.Mode == CpuMode.Long
            ? throw new InvalidOperationException("planted")
            : new CompareAll.Verdict(!(c.Guest.Name == "hello" && c.Mode == CpuMode.Real && c.Board.Name == "q35"), "n exits"), output);

        var text = output.ToString();
        Assert.Equal(1, status);
        Assert.Contains("DIVERGE hello real q35", text);
        Assert.Contains("DIVERGE pcie-scan long q35", text);
        Assert.Contains("failed: InvalidOperationException: planted", text);
        Assert.Contains($"verdict: 2 of {plan.Count} comparisons DIVERGE: hello real q35, pcie-scan long q35", text);
    }

    [Fact]
    public void All_agreeing_is_status_zero()
    {
        var plan = CompareAll.Plan(GuestLibrary.All.Where(g => g.Name == "hello"));
        var output = new StringWriter();

        Assert.Equal(0, CompareAll.Run(plan, _ => new CompareAll.Verdict(true, "n exits"), output));
        Assert.Contains($"verdict: all {plan.Count} comparisons agree", output.ToString());
    }
}
