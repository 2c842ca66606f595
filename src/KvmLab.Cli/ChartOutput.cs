using KvmLab.Charts;
using KvmLab.Tracing;

namespace KvmLab.Cli;

/// <summary>
/// The <c>--chart FILE</c> and <c>--chart-kind K</c> options: which of <see cref="TraceCharts"/> to draw and how to
/// write them. Several charts share one HTML page; as SVG or PNG each gets its own file named FILE-KIND.ext.
/// </summary>
internal static class ChartOutput
{
    /// <summary>Chart kinds by the name <c>--chart-kind</c> takes.</summary>
    public static readonly IReadOnlyDictionary<string, Func<ExitTrace, TraceChart>> Kinds = new Dictionary<string, Func<ExitTrace, TraceChart>>(StringComparer.Ordinal)
    {
        ["exit-reasons"] = TraceCharts.ExitReasons,
        ["timeline"] = t => TraceCharts.Timeline(t),
        ["pci-config"] = TraceCharts.PciConfigMap,
        ["devices"] = TraceCharts.AccessesPerDevice,
        ["registers"] = t => TraceCharts.AccessesPerRegister(t),
        ["latency"] = TraceCharts.HandlerLatency,
    };

    /// <summary>Help text for the two options.</summary>
    public static readonly string Help =
        $"""
          --chart FILE          write charts of the trace; the format follows the extension: .html (one offline page
                                holding every chosen chart), .svg or .png (one file per chart: FILE-KIND.ext when
                                there are several)
          --chart-kind K[,K..]  which charts: {string.Join(", ", Kinds.Keys)}, all. Default: pci-config when the
                                guest touched PCI configuration space, else exit-reasons,devices
        """;

    /// <summary>The kinds <paramref name="spec"/> names, or the default for <paramref name="trace"/>.</summary>
    public static IReadOnlyList<string> Choose(string? spec, ExitTrace trace)
    {
        if (spec is null)
            return PciConfigAccesses.From(trace).Count > 0 ? ["pci-config"] : ["exit-reasons", "devices"];
        var kinds = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (kinds.Contains("all")) return Kinds.Keys.ToList();
        foreach (var k in kinds)
        {
            if (!Kinds.ContainsKey(k))
                throw new UsageException($"unknown chart kind '{k}'; kinds: {string.Join(", ", Kinds.Keys)}, all");
        }
        return kinds.Distinct().ToList();
    }

    /// <summary>Checks the file name before the guest runs, so a typo does not cost a run.</summary>
    public static void Validate(string path, string? spec)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".html" or ".htm" or ".svg" or ".png"))
            throw new UsageException($"--chart '{path}': the name must end in .html, .svg or .png");
        if (spec is not null) Choose(spec, new ExitTrace());
    }

    /// <summary>Draws and writes the charts; returns the files written.</summary>
    public static IReadOnlyList<string> Write(ExitTrace trace, string path, string? spec)
    {
        var kinds = Choose(spec, trace);
        var charts = kinds.Select(k => (Kind: k, Chart: Kinds[k](trace))).ToList();
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".html" or ".htm")
        {
            File.WriteAllText(path, Page(trace, charts.Select(c => c.Chart).ToList()));
            return [path];
        }
        if (charts.Count == 1)
        {
            charts[0].Chart.Save(path);
            return [path];
        }
        var written = new List<string>();
        foreach (var (kind, chart) in charts)
        {
            var file = Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{kind}{ext}");
            chart.Save(file);
            written.Add(file);
        }
        return written;
    }

    private static string Page(ExitTrace trace, IReadOnlyList<TraceChart> charts) =>
        charts.Count == 1 ? charts[0].ToHtml() : TraceChart.HtmlPage($"kvmlab: {trace.Name}", charts);
}
