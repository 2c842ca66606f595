using System.Globalization;

namespace KvmLab.Interactive.Formatters;

/// <summary>A <see cref="Table"/> as an HTML table: a header per column, numbers right-aligned, the rows left out counted.</summary>
public sealed class TableFormatter : KvmLabFormatter<Table>
{
    /// <inheritdoc />
    protected override void WriteValue(Table value, TextWriter writer)
    {
        // Alignment is set on every cell because Jupyter's stylesheet right-aligns all table cells by default.
        var align = value.Columns.Select(c => c.IsNumeric ? "right" : "left").ToArray();
        writer.Write("<table class=\"kvmlab-table\"><thead><tr>");
        for (var i = 0; i < value.Columns.Count; i++)
            writer.Write($"<th style=\"text-align:{align[i]}\">{Html.Text(value.Columns[i].Name)}</th>");
        writer.Write("</tr></thead><tbody>");
        foreach (var row in value.Rows)
        {
            writer.Write("<tr>");
            for (var i = 0; i < row.Count; i++)
                writer.Write($"<td style=\"font-family:monospace;text-align:{align[i]};white-space:pre\">{Html.Text(row[i])}</td>");
            writer.Write("</tr>");
        }
        writer.Write("</tbody>");
        if (value.OmittedRows > 0)
        {
            writer.Write($"<tfoot><tr><td colspan=\"{Math.Max(1, value.Columns.Count)}\" style=\"text-align:left;font-style:italic\">");
            writer.Write(Html.Text(string.Create(CultureInfo.InvariantCulture,
                $"… {value.OmittedRows:N0} more rows (first {value.Rows.Count:N0} of {value.TotalRows:N0} shown)")));
            writer.Write("</td></tr></tfoot>");
        }
        writer.Write("</table>");
    }
}
