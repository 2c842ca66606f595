namespace KvmLab.Charts;

/// <summary>
/// The plotly.js bundle that ships inside the Plotly.NET package, embedded here gzip-compressed at build time
/// so that charts render with no network access.
/// </summary>
public static class PlotlyJs
{
    private static readonly Lazy<byte[]> Compressed = new(ReadResource);
    private static readonly Lazy<string> Base64 = new(() => Convert.ToBase64String(Compressed.Value));

    /// <summary>plotly.js version of the embedded bundle.</summary>
    public const string Version = "2.28.0";

    /// <summary>The gzip-compressed bundle (about a third of plotly.min.js).</summary>
    public static ReadOnlySpan<byte> GzipBytes => Compressed.Value;

    /// <summary>
    /// A script body that defines <c>window.Plotly</c> once per page: it decompresses the embedded bundle with the
    /// browser's DecompressionStream and stores the loading promise in <c>window.kvmlabPlotly</c>, which chart
    /// scripts await. Page-level AMD loaders (Jupyter's require.js) are hidden from the bundle so it sets the global.
    /// </summary>
    public static string LoaderScript()
    {
        return "window.kvmlabPlotly = window.kvmlabPlotly || (window.Plotly ? Promise.resolve(window.Plotly) : (async () => {"
            + "const bytes = Uint8Array.from(atob('" + Base64.Value + "'), c => c.charCodeAt(0));"
            + "const text = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text();"
            + "new Function('define', 'module', 'exports', text).call(window);"
            + "return window.Plotly; })());";
    }

    private static byte[] ReadResource()
    {
        using var stream = typeof(PlotlyJs).Assembly.GetManifestResourceStream("KvmLab.Charts.plotly.min.js.gz")
            ?? throw new InvalidOperationException("the plotly.js resource is missing from KvmLab.Charts (the build extracts it from the Plotly.NET package)");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
