using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>
/// Several trace records (a list of <see cref="Machine.Step"/> results, a filtered trace) as one table with the trace's
/// columns, instead of the stock index/value list of one-row tables.
/// </summary>
public sealed class ResolvedExitsFormatter : KvmLabFormatter<IEnumerable<ResolvedExit>>
{
    /// <inheritdoc />
    protected override void WriteValue(IEnumerable<ResolvedExit> value, TextWriter writer) =>
        Html.Table(writer, ExitRows.Headers, value.Select(ExitRows.Of), numeric: ExitRows.NumericColumns);
}
