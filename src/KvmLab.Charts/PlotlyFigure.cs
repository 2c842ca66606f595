using System.Text.Json;

namespace KvmLab.Charts;

/// <summary>Writes a <see cref="TraceChart"/> as a plotly.js figure (the JSON schema documented at plotly.com/javascript/reference).</summary>
internal static class PlotlyFigure
{
    public static string ToJson(TraceChart chart)
    {
        using var buffer = new MemoryStream();
        // The default encoder escapes '<', '>' and '&', so the JSON can sit inside a <script> element.
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("data");
            if (chart.Kind == ChartKind.Heatmap) WriteHeatmap(w, chart.Heatmap!);
            else foreach (var s in chart.Series) WriteSeries(w, chart, s);
            w.WriteEndArray();
            WriteLayout(w, chart);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteSeries(Utf8JsonWriter w, TraceChart chart, ChartSeries s)
    {
        w.WriteStartObject();
        w.WriteString("name", s.Name);
        switch (chart.Kind)
        {
            case ChartKind.Bar:
                w.WriteString("type", "bar");
                WriteStrings(w, "x", chart.Categories);
                WriteNumbers(w, "y", s.Y);
                break;
            case ChartKind.Line:
                w.WriteString("type", "scatter");
                w.WriteString("mode", "lines");
                WriteNumbers(w, "x", s.X);
                WriteNumbers(w, "y", s.Y);
                break;
            default:
                w.WriteString("type", "scatter");
                w.WriteString("mode", "markers");
                WriteNumbers(w, "x", s.X);
                w.WriteStartArray("y");
                foreach (var y in s.Y) w.WriteStringValue(chart.Categories[(int)y]);
                w.WriteEndArray();
                break;
        }
        w.WriteEndObject();
    }

    private static void WriteHeatmap(Utf8JsonWriter w, HeatmapData h)
    {
        w.WriteStartObject();
        w.WriteString("type", "heatmap");
        w.WriteString("colorscale", "Viridis");
        w.WriteNumber("xgap", 1);
        w.WriteNumber("ygap", 1);
        w.WriteStartObject("colorbar"); w.WriteStartObject("title"); w.WriteString("text", "accesses"); w.WriteEndObject(); w.WriteEndObject();
        w.WriteString("hovertemplate", "%{y} offset %{x}: %{z} accesses<extra></extra>");
        WriteStrings(w, "x", h.Columns);
        WriteStrings(w, "y", h.Rows);
        w.WriteStartArray("z");
        for (var r = 0; r < h.Rows.Count; r++)
        {
            w.WriteStartArray();
            for (var c = 0; c < h.Columns.Count; c++)
            {
                var v = h.Values[r, c];
                if (v == 0) w.WriteNullValue(); else w.WriteNumberValue(v);
            }
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteLayout(Utf8JsonWriter w, TraceChart chart)
    {
        w.WriteStartObject("layout");
        w.WriteStartObject("title"); w.WriteString("text", chart.Title); w.WriteEndObject();
        if (chart.Kind == ChartKind.Bar) w.WriteString("barmode", chart.Stacked ? "stack" : "group");
        WriteAxis(w, "xaxis", chart.XTitle, categorical: chart.Kind is ChartKind.Bar or ChartKind.Heatmap, reversed: false);
        WriteAxis(w, "yaxis", chart.YTitle, categorical: chart.Kind is ChartKind.Markers or ChartKind.Heatmap, reversed: chart.Kind == ChartKind.Heatmap);
        // A heatmap row per PCI function needs room to stay readable: grow with the rows.
        var rows = chart.Kind == ChartKind.Heatmap ? chart.Heatmap!.Rows.Count : 0;
        w.WriteNumber("height", Math.Max(TraceChart.DefaultHeight, 160 + 18 * rows));
        w.WriteEndObject();
    }

    private static void WriteAxis(Utf8JsonWriter w, string name, string title, bool categorical, bool reversed)
    {
        w.WriteStartObject(name);
        w.WriteStartObject("title"); w.WriteString("text", title); w.WriteEndObject();
        // Labels such as "0x10" or "00:02.0" must not be parsed as numbers or dates.
        if (categorical)
        {
            w.WriteString("type", "category");
            // Every bus:dev.fn and offset gets its label: plotly would otherwise drop every other one.
            w.WriteNumber("dtick", 1);
            w.WriteBoolean("automargin", true);
        }
        if (reversed) w.WriteString("autorange", "reversed");
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void WriteNumbers(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(Math.Round(v, 6));
        w.WriteEndArray();
    }
}
