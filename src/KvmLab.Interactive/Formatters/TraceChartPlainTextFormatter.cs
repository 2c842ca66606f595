using KvmLab.Charts;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Formatters;

/// <summary>A chart as one line of text (its kind and title), for front ends that show text/plain only.</summary>
public sealed class TraceChartPlainTextFormatter : KvmLabFormatter<TraceChart>
{
    /// <summary>text/plain.</summary>
    public override string MimeType => PlainTextFormatter.MimeType;

    /// <inheritdoc />
    protected override void WriteValue(TraceChart value, TextWriter writer) => writer.Write(value.ToString());
}
