using System.Net;
using System.Text;

namespace KvmLab.Charts;

/// <summary>HTML for charts: fragments for notebook outputs and standalone pages, all offline.</summary>
internal static class ChartHtml
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

    public static string Fragment(TraceChart chart, bool includePlotlyJs)
    {
        var id = $"kvmlab-chart-{Environment.ProcessId:x}-{Interlocked.Increment(ref _nextId)}";
        var sb = new StringBuilder();
        sb.Append("<div id=\"").Append(id).Append("\" class=\"kvmlab-chart\" style=\"width:100%;height:")
          .Append(TraceChart.DefaultHeight).Append("px\"></div>\n<script type=\"text/javascript\">\n");
        if (includePlotlyJs) sb.Append(PlotlyJs.LoaderScript()).Append('\n');
        // A fragment without the library polls until an earlier output on the page has started loading it.
        sb.Append("(function draw() {\n")
          .Append("  if (!window.kvmlabPlotly) { setTimeout(draw, 50); return; }\n")
          .Append("  const figure = ").Append(chart.ToPlotlyJson()).Append(";\n")
          .Append("  window.kvmlabPlotly.then(P => P.newPlot('").Append(id)
          .Append("', figure.data, figure.layout, {responsive: true, displaylogo: false}));\n")
          .Append("})();\n</script>");
        return sb.ToString();
    }
}
