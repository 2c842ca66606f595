using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace KvmLab.Charts;

/// <summary>HTML for charts: fragments for notebook outputs and standalone pages, all offline.</summary>
internal static partial class ChartHtml
{
    private static int _nextId;

    /// <summary>A standalone page holding <paramref name="charts"/>; plotly.js is inlined once, by the first.</summary>
    public static string Page(string title, IReadOnlyList<TraceChart> charts)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>")
          .Append(WebUtility.HtmlEncode(title))
          .Append("</title>\n</head>\n<body>\n");
        for (var i = 0; i < charts.Count; i++)
            sb.Append(Fragment(charts[i], includePlotlyJs: i == 0)).Append('\n');
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>
    /// A chart's output fragment: a div holding the static SVG drawn by ScottPlot, which a renderer that runs no scripts
    /// (GitHub, nbviewer, a static site, a sanitiser) shows as it is, and a script that replaces it with the
    /// interactive plotly.js figure where scripts run. The div's id is derived from the figure, so that the same
    /// measurement gives the same output on every run.
    /// </summary>
    public static string Fragment(TraceChart chart, bool includePlotlyJs)
    {
        var figure = chart.ToPlotlyJson();
        var id = $"kvmlab-chart-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(figure)))[..12]}-{Interlocked.Increment(ref _nextId)}";
        var sb = new StringBuilder();
        sb.Append("<div id=\"").Append(id).Append("\" class=\"kvmlab-chart\" style=\"width:100%;min-height:")
          .Append(TraceChart.DefaultHeight).Append("px\">")
          .Append(StaticSvg(chart, id))
          .Append("</div>\n<script type=\"text/javascript\">\n");
        if (includePlotlyJs) sb.Append(PlotlyJs.LoaderScript()).Append('\n');
        // A fragment without the library polls until an earlier output on the page has started loading it.
        sb.Append("(function draw() {\n")
          .Append("  if (!window.kvmlabPlotly) { setTimeout(draw, 50); return; }\n")
          .Append("  const figure = ").Append(figure).Append(";\n")
          .Append("  window.kvmlabPlotly.then(P => { const div = document.getElementById('").Append(id).Append("');")
          .Append(" div.replaceChildren(); div.style.height = '").Append(TraceChart.DefaultHeight).Append("px';")
          .Append(" P.newPlot(div, figure.data, figure.layout, {responsive: true, displaylogo: false}); });\n")
          .Append("})();\n</script>");
        return sb.ToString();
    }

    /// <summary>
    /// The chart's SVG for inlining in HTML: scaled to the page's width (a viewBox instead of a fixed size), without
    /// the XML declaration, and with its clip-path ids prefixed by <paramref name="prefix"/>, because ScottPlot
    /// numbers them from the same start in every SVG and several charts share one HTML document.
    /// </summary>
    public static string StaticSvg(TraceChart chart, string prefix)
    {
        var svg = chart.ToSvg();
        svg = svg[svg.IndexOf("<svg", StringComparison.Ordinal)..];
        svg = SvgSize().Replace(svg, m => $"<svg{m.Groups["attrs"].Value} class=\"kvmlab-chart-static\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(chart.Title)}\" " +
            $"viewBox=\"0 0 {m.Groups["w"].Value} {m.Groups["h"].Value}\" style=\"width:100%;max-width:{m.Groups["w"].Value}px;height:auto\"", 1);
        return ClipId().Replace(svg, m => m.Groups["pre"].Value + prefix + "-" + m.Groups["id"].Value);
    }

    [GeneratedRegex("<svg(?= )(?<attrs>[^>]*?) width=\"(?<w>[0-9.]+)\" height=\"(?<h>[0-9.]+)\"")]
    private static partial Regex SvgSize();

    [GeneratedRegex("(?<pre>id=\"|url\\(#)(?<id>cl_[0-9]+)")]
    private static partial Regex ClipId();
}
