namespace KvmLab.Charts;

/// <summary>
/// A chart of a trace as plain data (categories, series or a heatmap matrix) that renders three ways from one call:
/// interactive HTML with plotly.js inlined (works offline), and SVG or PNG drawn by ScottPlot with no browser.
/// Build one with <see cref="TraceCharts"/>.
/// </summary>
[KvmLab.Notebooks.TypeFormatterSource(KvmLab.Notebooks.TypeFormatterSourceAttribute.KvmLabSource)]
public sealed class TraceChart
{
    /// <summary>Default width of static images, pixels.</summary>
    public const int DefaultWidth = 900;

    /// <summary>Default height of static images and of the HTML chart, pixels.</summary>
    public const int DefaultHeight = 500;

    /// <summary>Creates a chart; most callers use <see cref="TraceCharts"/> instead.</summary>
    /// <param name="kind">The chart's shape.</param>
    /// <param name="title">Title, including any statement about aggregation or down-sampling.</param>
    /// <param name="xTitle">X axis title.</param>
    /// <param name="yTitle">Y axis title.</param>
    /// <param name="categories">Bar categories (x) for bars, or y categories for markers; empty otherwise.</param>
    /// <param name="series">The series; empty for a heatmap.</param>
    /// <param name="heatmap">The matrix of a heatmap; null otherwise.</param>
    /// <param name="stacked">Bars of several series stack instead of standing side by side.</param>
    public TraceChart(ChartKind kind, string title, string xTitle, string yTitle, IReadOnlyList<string> categories,
        IReadOnlyList<ChartSeries> series, HeatmapData? heatmap = null, bool stacked = false)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        if (kind == ChartKind.Heatmap && heatmap is null) throw new ArgumentException("a heatmap chart needs its matrix", nameof(heatmap));
        if (kind == ChartKind.Heatmap && heatmap is not null
            && (heatmap.Values.GetLength(0) != heatmap.Rows.Count || heatmap.Values.GetLength(1) != heatmap.Columns.Count))
            throw new ArgumentException($"the heatmap matrix is {heatmap.Values.GetLength(0)}x{heatmap.Values.GetLength(1)} but has {heatmap.Rows.Count} row and {heatmap.Columns.Count} column labels", nameof(heatmap));
        foreach (var s in series)
        {
            if (kind == ChartKind.Bar && s.Y.Count != categories.Count)
                throw new ArgumentException($"bar series '{s.Name}' has {s.Y.Count} values for {categories.Count} categories", nameof(series));
            if (kind is ChartKind.Line or ChartKind.Markers && s.X.Count != s.Y.Count)
                throw new ArgumentException($"series '{s.Name}' has {s.X.Count} x and {s.Y.Count} y values", nameof(series));
        }
        Kind = kind;
        Title = title;
        XTitle = xTitle ?? "";
        YTitle = yTitle ?? "";
        Categories = categories;
        Series = series;
        Heatmap = heatmap;
        Stacked = stacked;
    }

    /// <summary>The chart's shape.</summary>
    public ChartKind Kind { get; }

    /// <summary>Title, including any statement about aggregation or down-sampling.</summary>
    public string Title { get; }

    /// <summary>X axis title.</summary>
    public string XTitle { get; }

    /// <summary>Y axis title.</summary>
    public string YTitle { get; }

    /// <summary>Bar categories (x) for bars, y categories for markers; empty otherwise.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>The series (empty for a heatmap).</summary>
    public IReadOnlyList<ChartSeries> Series { get; }

    /// <summary>The heatmap matrix, or null.</summary>
    public HeatmapData? Heatmap { get; }

    /// <summary>True when bars of several series stack.</summary>
    public bool Stacked { get; }

    /// <summary>The plotly.js figure, <c>{"data": [...], "layout": {...}}</c>, as JSON safe to embed in a script.</summary>
    public string ToPlotlyJson() => PlotlyFigure.ToJson(this);

    /// <summary>A standalone HTML page with plotly.js inlined: opens offline in any current browser.</summary>
    public string ToHtml() => ChartHtml.Page(Title, [this]);

    /// <summary>
    /// One standalone offline page holding several charts under <paramref name="title"/>; plotly.js is inlined once.
    /// </summary>
    public static string HtmlPage(string title, IReadOnlyList<TraceChart> charts)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(charts);
        return ChartHtml.Page(title, charts);
    }

    /// <summary>
    /// An HTML fragment (a div and a script) for embedding in a page or notebook output. With
    /// <paramref name="includePlotlyJs"/> false it waits for plotly.js loaded by an earlier fragment on the page
    /// (see <see cref="PlotlyJs.LoaderScript"/>), so a notebook carries the library once.
    /// </summary>
    public string ToHtmlFragment(bool includePlotlyJs) => ChartHtml.Fragment(this, includePlotlyJs);

    /// <summary>The chart drawn by ScottPlot as SVG text.</summary>
    public string ToSvg(int width = DefaultWidth, int height = DefaultHeight) => ScottPlotRenderer.Svg(this, width, height);

    /// <summary>The chart drawn by ScottPlot as PNG bytes.</summary>
    public byte[] ToPng(int width = DefaultWidth, int height = DefaultHeight) => ScottPlotRenderer.Png(this, width, height);

    /// <summary>Writes the standalone offline HTML page (<see cref="ToHtml"/>).</summary>
    public void SaveHtml(string path) => File.WriteAllText(path, ToHtml());

    /// <summary>Writes an SVG drawn by ScottPlot.</summary>
    public void SaveSvg(string path, int width = DefaultWidth, int height = DefaultHeight) => File.WriteAllText(path, ToSvg(width, height));

    /// <summary>Writes a PNG drawn by ScottPlot.</summary>
    public void SavePng(string path, int width = DefaultWidth, int height = DefaultHeight) => File.WriteAllBytes(path, ToPng(width, height));

    /// <summary>Writes the chart in the format the file name asks for: .html/.htm, .svg or .png.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".html" or ".htm": SaveHtml(path); break;
            case ".svg": SaveSvg(path); break;
            case ".png": SavePng(path); break;
            default: throw new ArgumentException($"cannot tell the chart format from '{path}': use a name ending in .html, .svg or .png", nameof(path));
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Kind} chart '{Title}'";
}
