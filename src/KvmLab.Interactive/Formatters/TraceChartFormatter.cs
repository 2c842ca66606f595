using KvmLab.Charts;

namespace KvmLab.Interactive.Formatters;

/// <summary>
/// A chart as inline HTML that renders offline: the first chart of the session carries plotly.js (compressed, about
/// 1.5 MB), later ones only their figure and wait for that copy.
/// </summary>
public sealed class TraceChartFormatter : KvmLabFormatter<TraceChart>
{
    /// <inheritdoc />
    protected override void WriteValue(TraceChart value, TextWriter writer) =>
        writer.Write(value.ToHtmlFragment(includePlotlyJs: ChartHtmlSession.TakeFirst()));
}
