using KvmLab.Charts;
using KvmLab.Tracing;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Tests;

public class FormatterTests : IDisposable
{
    public FormatterTests() => Formatter.ResetToDefault();

    public void Dispose() => Formatter.ResetToDefault();

    [Fact]
    public void FirstDisplayOfATraceRegistersKvmLabFormattersWithoutTheExtension()
    {
        Assert.False(KvmLabFormatters.AreRegistered);

        var html = SampleTraces.BusScanAndEdu(50).ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("class=\"kvmlab-trace\"", html);
        Assert.Contains("first 20 of 50 records", html);
        Assert.True(KvmLabFormatters.AreRegistered);
    }

    [Fact]
    public void ResolvedExitShowsAddressesInHex()
    {
        var trace = SampleTraces.BusScanAndEdu(50);

        var html = trace.Resolve(0).ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("0x0cf8", html);
        Assert.Contains("pci-host.CONFIG_ADDRESS", html);
    }

    [Fact]
    public void StatisticsListIsAKvmStatTable()
    {
        KvmLabFormatters.Register();

        var html = TraceStatistics.Compute(SampleTraces.BusScanAndEdu(200), StatGrouping.Reason).ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("<th>avg round trip ns</th>", html);
        Assert.Contains("<td style=\"font-family:monospace\">MMIO</td>", html);
    }

    [Fact]
    public void OnlyTheFirstChartOfASessionCarriesPlotlyJs()
    {
        KvmLabFormatters.Register();
        var chart = TraceCharts.ExitReasons(SampleTraces.BusScanAndEdu(100));

        var first = chart.ToDisplayString(HtmlFormatter.MimeType);
        var second = chart.ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("DecompressionStream", first);
        Assert.DoesNotContain("DecompressionStream", second);
        Assert.Contains("newPlot", second);
    }

    [Fact]
    public void EveryFormatterClassIsFoundAndRegistered()
    {
        KvmLabFormatters.Register();

        var registered = Formatter.RegisteredFormatters(includeDefaults: false).OfType<KvmLabFormatter>().Select(f => f.GetType()).ToHashSet();

        var declared = typeof(KvmLabFormatter).Assembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(KvmLabFormatter)));
        Assert.NotEmpty(declared);
        Assert.All(declared, t => Assert.Contains(t, registered));
    }
}
