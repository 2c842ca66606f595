using System.Globalization;
using System.Text;

namespace KvmLab.Interactive;

/// <summary>A <see cref="Table"/> as aligned monospace text: the plain-text form and <see cref="Table.ToString"/>.</summary>
internal static class TableText
{
    public static string Of(Table table)
    {
        var widths = table.Columns.Select((c, i) => table.Rows.Select(r => r[i].Length).Append(c.Name.Length).Max()).ToArray();
        var text = new StringBuilder();
        AppendLine(text, table, widths, table.Columns.Select(c => c.Name).ToList());
        text.AppendJoin("  ", widths.Select(w => new string('-', w))).Append('\n');
        foreach (var row in table.Rows) AppendLine(text, table, widths, row);
        if (table.OmittedRows > 0) text.Append(CultureInfo.InvariantCulture, $"… {table.OmittedRows:N0} more rows\n");
        return text.ToString();
    }

    private static void AppendLine(StringBuilder text, Table table, int[] widths, IReadOnlyList<string> cells)
    {
        var line = string.Join("  ", cells.Select((cell, i) => table.Columns[i].IsNumeric ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i])));
        text.Append(line.TrimEnd()).Append('\n');
    }
}
