using KvmLab.Cli.Bench;

namespace KvmLab.Cli.Tests.Bench;

public sealed class SamplesTests
{
    [Fact]
    public void BestIsTheSmallestAndMedianTheMiddleRound()
    {
        var s = new Samples();
        foreach (var v in new[] { 9.0, 7.0, 30.0, 8.0 }) s.Add(v);
        Assert.Equal(7.0, s.Best);
        Assert.Equal(8.5, s.Median);
        s.Add(7.5);
        Assert.Equal(8.0, s.Median);
    }

    [Fact]
    public void NoRoundsGiveNaNRatherThanZero()
    {
        Assert.True(double.IsNaN(new Samples().Best));
        Assert.True(double.IsNaN(new Samples().Median));
    }
}
