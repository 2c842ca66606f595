using System.Globalization;
using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>Statistics rows (<see cref="TraceStatistics.Compute"/>) as a kvm_stat-like table.</summary>
public sealed class StatRowsFormatter : KvmLabFormatter<IEnumerable<StatRow>>
{
    /// <inheritdoc />
    protected override void WriteValue(IEnumerable<StatRow> value, TextWriter writer) => WriteTable(value, writer, null);

    private static readonly IReadOnlySet<int> NumericColumns = new HashSet<int> { 1, 2, 3, 4, 5, 6, 7 };

    internal static void WriteTable(IEnumerable<StatRow> rows, TextWriter writer, string? caption)
    {
        var inv = CultureInfo.InvariantCulture;
        Html.Table(writer, ["key", "count", "%", "per s", "min ns", "avg ns", "max ns", "avg round trip ns"],
            rows.Select(r => (IReadOnlyList<string>)
            [
                r.Key, r.Count.ToString("N0", inv), r.Percent.ToString("0.0", inv), r.RatePerSecond.ToString("N0", inv),
                r.MinNanos.ToString(inv), r.AvgNanos.ToString("0", inv), r.MaxNanos.ToString(inv), r.AvgRoundTripNanos.ToString("0", inv),
            ]), caption, NumericColumns);
    }
}
