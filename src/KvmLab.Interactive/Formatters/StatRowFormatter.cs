using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>A single statistics row as a one-row table.</summary>
public sealed class StatRowFormatter : KvmLabFormatter<StatRow>
{
    /// <inheritdoc />
    protected override void WriteValue(StatRow value, TextWriter writer) => StatRowsFormatter.WriteTable([value], writer, null);
}
