using System.Globalization;
using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>A trace as a summary line, its exits by reason and a table of its first <see cref="Rows"/> records.</summary>
public sealed class TraceFormatter : KvmLabFormatter<ExitTrace>
{
    /// <summary>How many records the table shows (process-wide; set it in a notebook cell).</summary>
    public static int Rows { get; set; } = 20;

    /// <inheritdoc />
    protected override void WriteValue(ExitTrace value, TextWriter writer)
    {
        var inv = CultureInfo.InvariantCulture;
        var shown = Math.Min(Rows, value.Count);
        writer.Write("<div class=\"kvmlab-trace\"><p><b>");
        writer.Write(Html.Text($"Trace '{value.Name}'"));
        writer.Write("</b>: ");
        writer.Write(Html.Text(string.Create(inv, $"{value.Count:N0} records, {value.ExitCount:N0} KVM exits, {value.DurationNanos / 1e6:0.###} ms, {value.Sources.Count} sources")));
        writer.Write("</p>");
        StatRowsFormatter.WriteTable(TraceStatistics.Compute(value, StatGrouping.Reason), writer, "exits by reason");
        Html.Table(writer, ExitRows.Headers, Enumerable.Range(0, shown).Select(i => ExitRows.Of(value.Resolve(i))),
            shown < value.Count ? $"first {shown} of {value.Count.ToString("N0", inv)} records" : $"all {shown} records",
            ExitRows.NumericColumns);
        writer.Write("</div>");
    }
}
