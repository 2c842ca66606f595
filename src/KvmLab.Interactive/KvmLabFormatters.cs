using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive;

/// <summary>Finds and registers the KvmLab notebook formatters (every concrete <see cref="KvmLabFormatter"/> here).</summary>
public static class KvmLabFormatters
{
    private static readonly object Gate = new();

    /// <summary>One instance of each formatter in this assembly.</summary>
    public static IReadOnlyList<KvmLabFormatter> Create() =>
        typeof(KvmLabFormatter).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsGenericTypeDefinition: false } && typeof(KvmLabFormatter).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (KvmLabFormatter)Activator.CreateInstance(t)!)
            .ToList();

    /// <summary>True when the formatters are registered with the .NET Interactive formatter right now.</summary>
    public static bool AreRegistered => Formatter.RegisteredFormatters(includeDefaults: false).Any(f => f is KvmLabFormatter);

    /// <summary>
    /// Registers every formatter unless they already are (a <see cref="Formatter.ResetToDefault"/> forgets them, and
    /// the next call registers them again). Also forgets that plotly.js was sent, since the outputs that carried it
    /// may be gone. A chart is displayed as a bundle of interactive HTML, a static SVG and a text line, a table as
    /// HTML and aligned text, a sequence diagram as Markdown (a mermaid block) and its source: renderers that run no scripts, or show no HTML, pick the part they can show.
    /// </summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (AreRegistered) return;
            ChartHtmlSession.Reset();
            foreach (var formatter in Create()) Formatter.Register(formatter);
            Formatter.SetPreferredMimeTypesFor(typeof(Charts.TraceChart), HtmlFormatter.MimeType, "image/svg+xml", PlainTextFormatter.MimeType);
            Formatter.SetPreferredMimeTypesFor(typeof(Table), HtmlFormatter.MimeType, PlainTextFormatter.MimeType);
            Formatter.SetPreferredMimeTypesFor(typeof(Tracing.SequenceDiagram), "text/markdown", PlainTextFormatter.MimeType);
        }
    }
}
