using System.Net;

namespace KvmLab.Interactive;

/// <summary>Small HTML helpers shared by the formatters; every text goes through <see cref="Text"/>.</summary>
internal static class Html
{
    public static string Text(string? s) => WebUtility.HtmlEncode(s ?? "");

    public static void Table(TextWriter w, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, string? caption = null)
    {
        w.Write("<table class=\"kvmlab\">");
        if (caption is not null) w.Write($"<caption style=\"text-align:left\">{Text(caption)}</caption>");
        w.Write("<thead><tr>");
        foreach (var h in headers) w.Write($"<th style=\"text-align:left\">{Text(h)}</th>");
        w.Write("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            w.Write("<tr>");
            foreach (var cell in row) w.Write($"<td style=\"font-family:monospace;text-align:left\">{Text(cell)}</td>");
            w.Write("</tr>");
        }
        w.Write("</tbody></table>");
    }
}
