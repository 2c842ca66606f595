using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Reflection;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive;

/// <summary>
/// Rows of any type displayed as a table with one column per public property or field, for the sequences of
/// anonymous objects notebook cells build with <c>Select(x =&gt; new { ... })</c> (which the stock formatter shows
/// as an index/value tree). It is a snapshot: the rows are enumerated once, when it is made, and only the first
/// <see cref="MaxRows"/> are kept.
/// </summary>
[TypeFormatterSource(typeof(KvmLabTypeFormatterSource))]
public sealed class Table
{
    /// <summary>How many rows a table keeps unless told otherwise.</summary>
    public const int DefaultMaxRows = 200;

    private Table(IReadOnlyList<TableColumn> columns, IReadOnlyList<IReadOnlyList<string>> rows, int totalRows, int maxRows)
    {
        Columns = columns;
        Rows = rows;
        TotalRows = totalRows;
        MaxRows = maxRows;
    }

    /// <summary>The columns, in the order the row type declares its members.</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>The rows kept (at most <see cref="MaxRows"/>), each cell already turned into its text.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows { get; }

    /// <summary>How many rows the sequence had.</summary>
    public int TotalRows { get; }

    /// <summary>The most rows kept.</summary>
    public int MaxRows { get; }

    /// <summary>Rows the sequence had beyond <see cref="MaxRows"/>.</summary>
    public int OmittedRows => TotalRows - Rows.Count;

    /// <summary>
    /// A table of <paramref name="rows"/>: a column per public instance property and field of <typeparamref name="T"/>
    /// (of the first row's runtime type when <typeparamref name="T"/> declares none, e.g. <see cref="object"/>), or a
    /// single "value" column when the rows are numbers, strings or other scalars.
    /// </summary>
    /// <param name="rows">The rows; enumerated once, to the end (to count them).</param>
    /// <param name="maxRows">The most rows kept; the rest are counted, not shown.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> is negative.</exception>
    public static Table Of<T>(IEnumerable<T> rows, int maxRows = DefaultMaxRows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRows);
        var list = new List<T>();
        var total = 0;
        foreach (var row in rows)
        {
            if (total++ < maxRows) list.Add(row);
        }

        var members = MembersOf(typeof(T));
        if (members is { Count: 0 } && list.FirstOrDefault(r => r is not null) is { } first) members = MembersOf(first.GetType());
        if (members is null or { Count: 0 })
        {
            var numeric = IsNumeric(typeof(T)) || list.Count > 0 && list.All(r => r is not null && IsNumeric(r.GetType()));
            return new Table([new TableColumn("value", numeric)],
                list.Select(r => (IReadOnlyList<string>)[Cell(r)]).ToList(), total, maxRows);
        }

        var columns = members.Select(m => new TableColumn(m.Name, IsNumeric(m is PropertyInfo p ? p.PropertyType : ((FieldInfo)m).FieldType))).ToList();
        var cells = list.Select(r => (IReadOnlyList<string>)members.Select(m => r is null ? "" : Cell(ValueOf(m, r))).ToList()).ToList();
        return new Table(columns, cells, total, maxRows);
    }

    /// <summary>The table as aligned plain text (numbers right-aligned), with a line naming the rows left out.</summary>
    public override string ToString() => TableText.Of(this);

    /// <summary>
    /// The public instance members shown as columns, in declaration order; null for types shown as one value
    /// (scalars, strings, enums, byte arrays), empty for types with no public members (also shown as one value).
    /// </summary>
    private static List<MemberInfo>? MembersOf(Type type)
    {
        if (IsScalar(type)) return null;
        const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance;
        return type.GetProperties(Public).Where(p => p.CanRead && p.GetIndexParameters().Length == 0).Cast<MemberInfo>()
            .Concat(type.GetFields(Public))
            .OrderBy(m => m.MetadataToken)
            .ToList();
    }

    private static object? ValueOf(MemberInfo member, object row) =>
        member is PropertyInfo p ? p.GetValue(row) : ((FieldInfo)member).GetValue(row);

    private static bool IsScalar(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(byte[])
            || typeof(IFormattable).IsAssignableFrom(t) && t.IsValueType;
    }

    private static bool IsNumeric(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t != typeof(bool) && t != typeof(char) && (t.IsPrimitive || t == typeof(decimal) || t == typeof(BigInteger));
    }

    /// <summary>
    /// The text of one cell: strings as given (so a "0x..." a cell computed stays exactly that), byte arrays as hex
    /// bytes, sequences joined, everything else in the invariant culture.
    /// </summary>
    private static string Cell(object? value) => value switch
    {
        null => "",
        string s => s,
        byte[] bytes => string.Join(' ', bytes.Select(b => b.ToString("x2", CultureInfo.InvariantCulture))),
        IEnumerable sequence => string.Join(", ", sequence.Cast<object?>().Select(Cell)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
