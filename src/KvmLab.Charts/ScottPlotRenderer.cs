using ScottPlot;

namespace KvmLab.Charts;

/// <summary>Draws a <see cref="TraceChart"/> with ScottPlot: the same data as the HTML chart, as SVG or PNG, no browser.</summary>
internal static class ScottPlotRenderer
{
    private static readonly Lazy<string?> SansFace = new(() =>
        new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica" }.FirstOrDefault(f => SkiaSharp.SKFontManager.Default.FontFamilies.Contains(f)));

    public static string Svg(TraceChart chart, int width, int height) => Build(chart).GetSvgXml(width, height);

    public static byte[] Png(TraceChart chart, int width, int height) => Build(chart).GetImageBytes(width, height, ImageFormat.Png);

    private static Plot Build(TraceChart chart)
    {
        var plot = new Plot();
        // Legible at documentation width (the 900 px figure is shown about 700 px wide): a sans-serif face where the
        // system has one (ScottPlot's default resolves to a serif face on Debian) and larger text than ScottPlot's.
        if (SansFace.Value is { } face) plot.Font.Set(face);
        plot.Title(chart.Title, size: 18);
        plot.XLabel(chart.XTitle);
        plot.YLabel(chart.YTitle);
        switch (chart.Kind)
        {
            case ChartKind.Bar: AddBars(plot, chart); break;
            case ChartKind.Line: AddLines(plot, chart); break;
            case ChartKind.Markers: AddMarkers(plot, chart); break;
            default: AddHeatmap(plot, chart.Heatmap!); break;
        }
        // Below the data area: inside it, the legend covered the tallest bars.
        if (chart.Series.Count > 1)
        {
            plot.ShowLegend(Edge.Bottom);
            plot.Legend.FontSize = 14;
        }
        plot.Axes.Bottom.Label.FontSize = 17;
        plot.Axes.Left.Label.FontSize = 17;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 14;
        plot.Axes.Left.TickLabelStyle.FontSize = 14;
        return plot;
    }

    private static void AddBars(Plot plot, TraceChart chart)
    {
        var n = chart.Series.Count;
        var stackBase = new double[chart.Categories.Count];
        for (var k = 0; k < n; k++)
        {
            var s = chart.Series[k];
            var color = Palette(k);
            var bars = new List<Bar>(s.Y.Count);
            for (var i = 0; i < s.Y.Count; i++)
            {
                var position = chart.Stacked || n == 1 ? i : i - 0.4 + (k + 0.5) * 0.8 / n;
                var bottom = chart.Stacked ? stackBase[i] : 0;
                bars.Add(new Bar
                {
                    Position = position,
                    ValueBase = bottom,
                    Value = bottom + s.Y[i],
                    Size = chart.Stacked || n == 1 ? 0.8 : 0.8 / n,
                    FillColor = color,
                    LineWidth = 0,
                });
                if (chart.Stacked) stackBase[i] += s.Y[i];
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = s.Name;
        }
        SetCategoryTicks(plot.Axes.Bottom, chart.Categories);
        plot.Axes.Margins(bottom: 0);
    }

    private static void AddLines(Plot plot, TraceChart chart)
    {
        for (var k = 0; k < chart.Series.Count; k++)
        {
            var s = chart.Series[k];
            var line = plot.Add.ScatterLine(s.X.ToArray(), s.Y.ToArray(), Palette(k));
            line.LegendText = s.Name;
            line.LineWidth = 1.5f;
        }
    }

    private static void AddMarkers(Plot plot, TraceChart chart)
    {
        for (var k = 0; k < chart.Series.Count; k++)
        {
            var s = chart.Series[k];
            var points = plot.Add.ScatterPoints(s.X.ToArray(), s.Y.ToArray(), Palette(k));
            points.LegendText = s.Name;
            points.MarkerSize = 5;
        }
        SetCategoryTicks(plot.Axes.Left, chart.Categories);
    }

    private static void AddHeatmap(Plot plot, HeatmapData h)
    {
        if (h.Rows.Count == 0 || h.Columns.Count == 0) return;
        // Cells are drawn as rectangles centred on (column, row index from the top) so that they line up with the
        // category ticks exactly; empty cells stay blank as in the HTML chart.
        var max = h.Values.Cast<double>().Max();
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (var r = 0; r < h.Rows.Count; r++)
        {
            var y = h.Rows.Count - 1 - r;
            for (var c = 0; c < h.Columns.Count; c++)
            {
                var v = h.Values[r, c];
                if (v == 0) continue;
                var cell = plot.Add.Rectangle(c - 0.5, c + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = colormap.GetColor(max <= 1 ? 1 : (v - 1) / (max - 1));
                cell.LineWidth = 0;
            }
        }
        SetCategoryTicks(plot.Axes.Bottom, h.Columns);
        var rowPositions = Enumerable.Range(0, h.Rows.Count).Select(i => (double)(h.Rows.Count - 1 - i)).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(rowPositions, h.Rows.ToArray());
        plot.Axes.SetLimits(-0.5, h.Columns.Count - 0.5, -0.5, h.Rows.Count - 0.5);
        plot.XLabel($"{plot.Axes.Bottom.Label.Text} (colour: 1 to {max:0} accesses, viridis)");
    }

    private static void SetCategoryTicks(IAxis axis, IReadOnlyList<string> labels)
    {
        // At most about a dozen labels fit the width legibly: with more categories every k-th is labelled (the HTML
        // chart labels them all on hover). Long or many labels are turned, and the axis grows to hold them.
        var step = Math.Max(1, (labels.Count + 11) / 12);
        var positions = Enumerable.Range(0, labels.Count).Select(i => (double)i).ToArray();
        var shown = labels.Select((l, i) => i % step == 0 ? l : "").ToArray();
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, shown);
        if (axis is ScottPlot.AxisPanels.BottomAxis bottom && (shown.Count(l => l.Length > 0) > 6 || shown.Sum(l => l.Length) > 60))
        {
            bottom.TickLabelStyle.Rotation = -45;
            bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            // A turned label reaches down about 0.6 em per character times sin 45 degrees.
            bottom.MinimumSize = 30 + 0.5f * bottom.TickLabelStyle.FontSize * shown.Max(l => l.Length);
        }
    }

    private static Color Palette(int index) => new ScottPlot.Palettes.Category10().GetColor(index);
}
