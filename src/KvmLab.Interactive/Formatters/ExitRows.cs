using System.Globalization;
using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>The columns a trace record shows in a notebook, addresses in hex.</summary>
internal static class ExitRows
{
    public static readonly string[] Headers = ["#", "t (µs)", "reason", "access", "address", "size", "value", "target", "rip", "flags", "handled (ns)"];

    /// <summary>#, t, size and handled (ns): the columns that are plain numbers.</summary>
    public static readonly IReadOnlySet<int> NumericColumns = new HashSet<int> { 0, 1, 5, 10 };

    public static IReadOnlyList<string> Of(ResolvedExit e)
    {
        var r = e.Record;
        var pio = r.Access.IsPio();
        return
        [
            e.Sequence.ToString(CultureInfo.InvariantCulture),
            (r.TimestampNanos / 1000.0).ToString("0.000", CultureInfo.InvariantCulture),
            e.ReasonName,
            r.Access.Label(),
            r.Access == TraceAccess.None ? "" : "0x" + r.Address.ToString(pio ? "x4" : "x8", CultureInfo.InvariantCulture),
            r.Access == TraceAccess.None ? "" : r.Size.ToString(CultureInfo.InvariantCulture),
            r.Access == TraceAccess.None ? "" : "0x" + r.Value.ToString("x", CultureInfo.InvariantCulture),
            e.Target,
            "0x" + r.Rip.ToString("x", CultureInfo.InvariantCulture),
            r.Flags == ExitFlags.None ? "" : r.Flags.ToString(),
            r.HandlerNanos.ToString(CultureInfo.InvariantCulture),
        ];
    }
}
