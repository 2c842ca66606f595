using System.Globalization;
using KvmLab.Tracing;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace KvmLab.Cli;

/// <summary>kvm_stat-like tables of a trace: exits by reason, accesses by device and by device register.</summary>
internal static class StatTables
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The three tables (reason, device, register) with count, %, rate and handling latency.</summary>
    public static IRenderable Render(ExitTrace trace, int maxRowsPerTable = int.MaxValue)
    {
        var tables = new List<IRenderable>
        {
            Table("exit reason", "KVM exits by reason", TraceStatistics.Compute(trace, StatGrouping.Reason), maxRowsPerTable),
            Table("device", "accesses by device", TraceStatistics.Compute(trace, StatGrouping.Device), maxRowsPerTable),
            Table("register", "accesses by register", TraceStatistics.Compute(trace, StatGrouping.Register), maxRowsPerTable),
        };
        return new Rows(tables);
    }

    /// <summary>One table; rows beyond <paramref name="maxRows"/> are summed into an "(n more)" line.</summary>
    public static Table Table(string keyTitle, string title, IReadOnlyList<StatRow> rows, int maxRows = int.MaxValue)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Simple };
        table.AddColumn(new TableColumn(keyTitle).NoWrap());
        foreach (var c in new[] { "count", "%", "rate/s", "min", "avg", "max", "round trip" })
            table.AddColumn(new TableColumn(c).RightAligned().NoWrap());
        foreach (var r in rows.Take(maxRows))
        {
            table.AddRow(Markup.Escape(r.Key), r.Count.ToString("N0", Inv), r.Percent.ToString("F1", Inv),
                r.RatePerSecond.ToString("N0", Inv), Nanos(r.MinNanos), Nanos(r.AvgNanos), Nanos(r.MaxNanos), Nanos(r.AvgRoundTripNanos));
        }
        if (rows.Count > maxRows)
        {
            var rest = rows.Skip(maxRows).ToList();
            table.AddRow($"({rest.Count} more)", rest.Sum(r => r.Count).ToString("N0", Inv), rest.Sum(r => r.Percent).ToString("F1", Inv), "", "", "", "", "");
        }
        if (rows.Count == 0) table.AddRow("(none)", "0", "", "", "", "", "", "");
        table.Columns[0].Width = Math.Max(12, rows.Take(maxRows).Select(r => r.Key.Length).DefaultIfEmpty(0).Max());
        return table;
    }

    /// <summary>A latency as ns, µs, ms or s with three significant digits.</summary>
    public static string Nanos(double ns)
    {
        var (value, unit) = ns switch
        {
            < 1e3 => (ns, "ns"),
            < 1e6 => (ns / 1e3, "µs"),
            < 1e9 => (ns / 1e6, "ms"),
            _ => (ns / 1e9, "s"),
        };
        var format = value < 10 ? "0.00" : value < 100 ? "0.0" : "0";
        return value.ToString(format, Inv) + " " + unit;
    }

    /// <summary>
    /// A Spectre console over <paramref name="writer"/>. Spectre drops colours and cursor movement by itself when the
    /// stream is not a terminal; it would also wrap at 80 columns, which breaks rows apart in a log, so a redirected
    /// console gets a width that fits the widest table.
    /// </summary>
    public static IAnsiConsole ConsoleFor(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (redirected) console.Profile.Width = 160;
        return console;
    }
}
