namespace KvmLab.Charts;

/// <summary>One named series of a chart.</summary>
/// <param name="Name">Legend entry ("reads", "IO", ...).</param>
/// <param name="X">
/// Numeric x values for <see cref="ChartKind.Line"/> and <see cref="ChartKind.Markers"/>; empty for bars, whose
/// x positions are the chart's <see cref="TraceChart.Categories"/>.
/// </param>
/// <param name="Y">
/// Bar heights (one per category), line values, or for markers an index into <see cref="TraceChart.Categories"/>.
/// </param>
public sealed record ChartSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>A bar series: one value per category of the chart.</summary>
    public static ChartSeries Bars(string name, IReadOnlyList<double> values) => new(name, Array.Empty<double>(), values);
}
