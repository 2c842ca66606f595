using System.Net;

namespace KvmLab.Interactive;

/// <summary>Small HTML helpers shared by the formatters; every text goes through <see cref="Text"/>.</summary>
internal static class Html
{
    public static string Text(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>
    /// Writes a table; the columns listed in <paramref name="numeric"/> are right-aligned so their digits line up.
    /// Alignment is set on every cell because Jupyter's stylesheet right-aligns all table cells by default.
    /// </summary>
    public static void Table(TextWriter w, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, string? caption = null,
        IReadOnlySet<int>? numeric = null)
    {
        string Align(int column) => numeric?.Contains(column) == true ? "right" : "left";
        w.Write("<table class=\"kvmlab\">");
        if (caption is not null) w.Write($"<caption style=\"text-align:left\">{Text(caption)}</caption>");
        w.Write("<thead><tr>");
        for (var i = 0; i < headers.Count; i++) w.Write($"<th style=\"text-align:{Align(i)}\">{Text(headers[i])}</th>");
        w.Write("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            w.Write("<tr>");
            for (var i = 0; i < row.Count; i++) w.Write($"<td style=\"font-family:monospace;text-align:{Align(i)}\">{Text(row[i])}</td>");
            w.Write("</tr>");
        }
        w.Write("</tbody></table>");
    }
}
