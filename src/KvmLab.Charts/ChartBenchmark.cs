using System.Diagnostics;

namespace KvmLab.Charts;

/// <summary>Time and size of one chart built from a large trace.</summary>
/// <param name="Chart">Which chart.</param>
/// <param name="BuildMilliseconds">Time to build the chart from the trace.</param>
/// <param name="HtmlMilliseconds">Time to write its standalone HTML.</param>
/// <param name="HtmlBytes">Size of that HTML in bytes (UTF-8), plotly.js included.</param>
internal sealed record ChartMeasurement(string Chart, double BuildMilliseconds, double HtmlMilliseconds, long HtmlBytes);

/// <summary>
/// Measures how long each standard chart takes to build from a large trace and how big its offline HTML is.
/// Prints nothing and asserts nothing: callers (<c>kvmlab bench</c>, tests) decide what to show.
/// </summary>
internal static class ChartBenchmark
{
    /// <summary>Builds a <see cref="SampleTraces"/> trace of <paramref name="records"/> records and measures every standard chart.</summary>
    public static IReadOnlyList<ChartMeasurement> Run(int records = 1_000_000) => Run(SampleTraces.BusScanAndEdu(records));

    /// <summary>Measures every standard chart built from <paramref name="trace"/> (for example a real guest run's).</summary>
    public static IReadOnlyList<ChartMeasurement> Run(Tracing.ExitTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        // One untimed round compiles the code paths, so the numbers describe steady state, not the JIT.
        foreach (var chart in TraceCharts.All(SampleTraces.BusScanAndEdu(2000))) _ = chart.ToHtml();
        var builders = new (string Name, Func<TraceChart> Build)[]
        {
            ("exit reasons", () => TraceCharts.ExitReasons(trace)),
            ("timeline", () => TraceCharts.Timeline(trace)),
            ("pci config map", () => TraceCharts.PciConfigMap(trace)),
            ("accesses per device", () => TraceCharts.AccessesPerDevice(trace)),
            ("accesses per register", () => TraceCharts.AccessesPerRegister(trace)),
            ("handler latency", () => TraceCharts.HandlerLatency(trace)),
        };
        var result = new List<ChartMeasurement>();
        foreach (var (name, build) in builders)
        {
            var sw = Stopwatch.StartNew();
            var chart = build();
            var built = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var html = chart.ToHtml();
            result.Add(new ChartMeasurement(name, built, sw.Elapsed.TotalMilliseconds, System.Text.Encoding.UTF8.GetByteCount(html)));
        }
        return result;
    }
}
