using KvmLab.Charts;

namespace KvmLab.Interactive.Formatters;

/// <summary>
/// A chart as a static SVG (drawn by ScottPlot), the part of a chart output that renderers running no scripts use:
/// GitHub, nbviewer and static site generators pick image/svg+xml when they do not show the interactive HTML.
/// </summary>
public sealed class TraceChartSvgFormatter : KvmLabFormatter<TraceChart>
{
    /// <summary>image/svg+xml.</summary>
    public override string MimeType => "image/svg+xml";

    /// <inheritdoc />
    protected override void WriteValue(TraceChart value, TextWriter writer) => writer.Write(value.ToSvg());
}
