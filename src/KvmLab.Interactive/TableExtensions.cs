namespace KvmLab.Interactive;

/// <summary>The notebook idiom for <see cref="Table.Of"/>: <c>xs.Select(x =&gt; new { ... }).ToTable()</c>.</summary>
public static class TableExtensions
{
    /// <summary>A table of <paramref name="rows"/>, one column per public property or field (see <see cref="Table.Of"/>).</summary>
    /// <param name="rows">The rows; enumerated once.</param>
    /// <param name="maxRows">The most rows kept; the rest are counted, not shown.</param>
    public static Table ToTable<T>(this IEnumerable<T> rows, int maxRows = Table.DefaultMaxRows) => Table.Of(rows, maxRows);
}
