using System.Diagnostics;
using System.Text.RegularExpressions;
using SkiaSharp;

namespace KvmLab.Charts.Tests;

public class ChartExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvmlab-charts-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TraceChart Sample() => TraceCharts.ExitReasons(SampleTraces.BusScanAndEdu(400));

    [Fact]
    public void HtmlPageIsStandaloneWithPlotlyJsInlined()
    {
        var html = Sample().ToHtml();

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotMatch(new Regex("<script[^>]+src=", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("cdn.plot.ly", html);
        Assert.Contains("DecompressionStream('gzip')", html);
        Assert.Contains("\"type\":\"bar\"", html);
    }

    [Fact]
    public void EmbeddedPlotlyJsIsTheBundleFromThePlotlyNetPackage()
    {
        using var gz = new System.IO.Compression.GZipStream(new MemoryStream(PlotlyJs.GzipBytes.ToArray()), System.IO.Compression.CompressionMode.Decompress);
        var text = new StreamReader(gz).ReadToEnd();

        Assert.Contains("plotly.js v" + PlotlyJs.Version, text[..200]);
        Assert.True(text.Length > 3_000_000, $"plotly.js is {text.Length} characters");
    }

    [Fact]
    public void PageOfSeveralChartsInlinesPlotlyJsOnceAndDrawsEach()
    {
        var trace = SampleTraces.BusScanAndEdu(400);
        var charts = new[] { TraceCharts.ExitReasons(trace), TraceCharts.AccessesPerDevice(trace) };

        var html = TraceChart.HtmlPage("kvmlab: <scan>", charts);

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<title>kvmlab: &lt;scan&gt;</title>", html);
        Assert.Single(Regex.Matches(html, "DecompressionStream"));
        Assert.Equal(2, Regex.Matches(html, "class=\"kvmlab-chart\"").Count);
    }

    [Fact]
    public void FragmentWithoutLibraryWaitsForAnEarlierLoader()
    {
        var chart = Sample();

        var first = chart.ToHtmlFragment(includePlotlyJs: true);
        var later = chart.ToHtmlFragment(includePlotlyJs: false);

        Assert.Contains("window.kvmlabPlotly = window.kvmlabPlotly ||", first);
        Assert.DoesNotContain("DecompressionStream", later);
        Assert.Contains("setTimeout(draw", later);
        var script = later[later.IndexOf("<script", StringComparison.Ordinal)..];
        Assert.True(script.Length < 5000, $"the script of a chart without the library is {script.Length} characters");
        Assert.NotEqual(Regex.Match(first, "id=\"([^\"]+)\"").Value, Regex.Match(later, "id=\"([^\"]+)\"").Value);
    }

    [Fact]
    public void FragmentShowsTheStaticSvgUntilAScriptReplacesIt()
    {
        var fragment = Sample().ToHtmlFragment(includePlotlyJs: false);

        // Everything before the script is what a renderer that runs no scripts shows: the div with the SVG in it.
        var markup = fragment[..fragment.IndexOf("<script", StringComparison.Ordinal)];
        Assert.Matches("^<div id=\"kvmlab-chart-[0-9a-f]{12}-[0-9]+\" class=\"kvmlab-chart\"[^>]*><svg ", markup);
        Assert.Contains("viewBox=\"0 0 900 500\"", markup);
        Assert.Contains("KVM exits by reason", markup);
        Assert.DoesNotContain("<?xml", markup);
        Assert.Contains("div.replaceChildren()", fragment);
    }

    [Fact]
    public void FragmentsOfOnePageClipWithIdsOfTheirOwn()
    {
        var first = Sample().ToHtmlFragment(includePlotlyJs: false);
        var second = Sample().ToHtmlFragment(includePlotlyJs: false);

        static HashSet<string> Ids(string html) => Regex.Matches(html, "clipPath id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToHashSet();
        Assert.NotEmpty(Ids(first));
        Assert.Empty(Ids(first).Intersect(Ids(second)));
        // Every clip-path reference points at a clipPath of the same fragment.
        Assert.All(Regex.Matches(second, "url\\(#([^)]+)\\)"), m => Assert.Contains(m.Groups[1].Value, Ids(second)));
    }

    [Fact]
    public void TheSameChartGetsTheSameIdStemOnEveryRun()
    {
        static string Stem(string html) => Regex.Match(html, "id=\"(kvmlab-chart-[0-9a-f]+)-").Groups[1].Value;

        Assert.Equal(Stem(Sample().ToHtmlFragment(false)), Stem(Sample().ToHtmlFragment(false)));
        Assert.NotEqual(Stem(Sample().ToHtmlFragment(false)), Stem(TraceCharts.AccessesPerDevice(SampleTraces.BusScanAndEdu(400)).ToHtmlFragment(false)));
    }

    [Fact]
    public void ChartTextCannotCloseTheScriptElement()
    {
        var chart = new TraceChart(ChartKind.Bar, "</script><b>x</b>", "", "", ["</script>"], [ChartSeries.Bars("s", [1.0])]);

        var fragment = chart.ToHtmlFragment(includePlotlyJs: false);

        Assert.Single(Regex.Matches(fragment, "</script>"));
    }

    [Fact]
    public void SvgExportDrawsTheTitleAndCategories()
    {
        var svg = Sample().ToSvg();

        Assert.Matches("^(<\\?xml[^>]*>\\s*)?<svg", svg);
        Assert.Contains("KVM exits by reason", svg);
        Assert.Contains("MMIO", svg);
    }

    [Theory]
    [InlineData("chart.png")]
    [InlineData("chart.svg")]
    [InlineData("chart.html")]
    [InlineData("CHART.HTM")]
    public void SaveChoosesTheFormatByExtension(string name)
    {
        var path = Path.Combine(_dir, name);

        Sample().Save(path);

        var head = File.ReadAllBytes(path).AsSpan(0, 16).ToArray();
        var text = System.Text.Encoding.ASCII.GetString(head);
        switch (Path.GetExtension(name).ToLowerInvariant())
        {
            case ".png": Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, head[..4]); break;
            case ".svg": Assert.Contains("<svg", File.ReadAllText(path)); break;
            default: Assert.StartsWith("<!DOCTYPE html>", text); break;
        }
    }

    [Fact]
    public void SaveRejectsAnUnknownExtensionNamingThePath()
    {
        var e = Assert.Throws<ArgumentException>(() => Sample().Save(Path.Combine(_dir, "chart.jpg")));
        Assert.Contains("chart.jpg", e.Message);
    }

    [Theory]
    [MemberData(nameof(AllChartNames))]
    public void PngExportOfEveryChartIsNotBlank(int index)
    {
        var chart = TraceCharts.All(SampleTraces.BusScanAndEdu(3000))[index];

        using var bitmap = SKBitmap.Decode(chart.ToPng(600, 400));

        Assert.Equal(600, bitmap.Width);
        Assert.True(ColouredPixels(bitmap) > 500, $"{chart.Title}: {ColouredPixels(bitmap)} coloured pixels");
    }

    public static TheoryData<int> AllChartNames() => new(Enumerable.Range(0, 6));

    [Fact]
    public void MillionExitHtmlStaysUnderTwoMegabytes()
    {
        var measurements = ChartBenchmark.Run(1_000_000);

        foreach (var m in measurements)
        {
            Console.WriteLine($"{m.Chart,-22} build {m.BuildMilliseconds,8:0.0} ms  html {m.HtmlMilliseconds,6:0.0} ms  {m.HtmlBytes / 1e6:0.000} MB");
            Assert.True(m.HtmlBytes <= 2_000_000, $"{m.Chart}: {m.HtmlBytes} bytes");
        }
    }

    [Fact]
    public void OfflineHtmlRendersInHeadlessChromium()
    {
        var html = Path.Combine(_dir, "chart.html");
        var png = Path.Combine(_dir, "shot.png");
        Sample().SaveHtml(html);

        Screenshot(html, png);

        using var bitmap = SKBitmap.Decode(png);
        // plotly.js's first trace colour (#1f77b4) fills the bars; a page where plotly.js failed would have none.
        var plotlyBlue = CountPixels(bitmap, c => Math.Abs(c.Red - 0x1f) < 12 && Math.Abs(c.Green - 0x77) < 12 && Math.Abs(c.Blue - 0xb4) < 12);
        Assert.True(plotlyBlue > 2000, $"{plotlyBlue} bar-coloured pixels in the screenshot");
        Assert.True(ColouredPixels(bitmap) > 2000);
    }

    [Fact]
    public void FragmentShowsItsFigureInChromiumWithScriptsDisabled()
    {
        var html = Path.Combine(_dir, "noscript.html");
        var png = Path.Combine(_dir, "noscript.png");
        File.WriteAllText(html, "<!DOCTYPE html><html><body>" + Sample().ToHtmlFragment(includePlotlyJs: true) + "</body></html>");

        Screenshot(html, png, scripts: false);

        using var bitmap = SKBitmap.Decode(png);
        // The static SVG's bars are drawn in the same first palette colour (#1f77b4) as plotly.js's.
        var barBlue = CountPixels(bitmap, c => Math.Abs(c.Red - 0x1f) < 12 && Math.Abs(c.Green - 0x77) < 12 && Math.Abs(c.Blue - 0xb4) < 12);
        Assert.True(barBlue > 2000, $"{barBlue} bar-coloured pixels in the screenshot with scripts disabled");
    }

    [Fact]
    public void FragmentWithoutItsSvgScreenshotsBlankWithScriptsDisabledSoTheCheckCanFail()
    {
        var html = Path.Combine(_dir, "bare.html");
        var png = Path.Combine(_dir, "bare.png");
        var fragment = Regex.Replace(Sample().ToHtmlFragment(includePlotlyJs: true), "<svg .*</svg>", "", RegexOptions.Singleline);
        File.WriteAllText(html, "<!DOCTYPE html><html><body>" + fragment + "</body></html>");

        Screenshot(html, png, scripts: false);

        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal(0, ColouredPixels(bitmap));
    }

    private static void Screenshot(string html, string png, bool scripts = true)
    {
        // Headless Chromium takes no screenshot with JavaScript switched off; a policy that forbids every script is the
        // same page as a renderer that runs none sees it.
        if (!scripts)
            File.WriteAllText(html, File.ReadAllText(html).Replace("<html>",
                "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'\"></head>", StringComparison.Ordinal));
        var psi = new ProcessStartInfo("/usr/bin/chromium")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,600",
                     "--virtual-time-budget=15000", $"--screenshot={png}", new Uri(html).AbsoluteUri })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "chromium did not finish within 120 s");
        Assert.True(File.Exists(png), $"chromium wrote no screenshot (exit {p.ExitCode}): {stderr.Result}");
    }

    private static int ColouredPixels(SKBitmap bitmap) => CountPixels(bitmap, c => c.Red < 0xF0 || c.Green < 0xF0 || c.Blue < 0xF0);

    private static int CountPixels(SKBitmap bitmap, Func<SKColor, bool> predicate)
    {
        var n = 0;
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
                if (predicate(bitmap.GetPixel(x, y))) n++;
        return n;
    }
}
