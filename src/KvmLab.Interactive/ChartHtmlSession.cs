namespace KvmLab.Interactive;

/// <summary>Whether this kernel session has already sent plotly.js to the notebook: it goes out with the first chart only.</summary>
public static class ChartHtmlSession
{
    private static int _sent;

    /// <summary>True exactly once per session: the caller includes plotly.js in its output.</summary>
    public static bool TakeFirst() => Interlocked.Exchange(ref _sent, 1) == 0;

    /// <summary>Makes the next chart carry plotly.js again (after formatters are re-registered).</summary>
    public static void Reset() => Interlocked.Exchange(ref _sent, 0);
}
