using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>One trace record as a one-row table.</summary>
public sealed class ResolvedExitFormatter : KvmLabFormatter<ResolvedExit>
{
    /// <inheritdoc />
    protected override void WriteValue(ResolvedExit value, TextWriter writer) =>
        Html.Table(writer, ExitRows.Headers, [ExitRows.Of(value)], numeric: ExitRows.NumericColumns);
}
