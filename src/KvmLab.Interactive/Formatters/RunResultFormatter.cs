using System.Globalization;

namespace KvmLab.Interactive.Formatters;

/// <summary>How a run ended, as a one-row table: why, after how many exits, how long, the debug-exit status and RIP.</summary>
public sealed class RunResultFormatter : KvmLabFormatter<RunResult>
{
    /// <inheritdoc />
    protected override void WriteValue(RunResult value, TextWriter writer)
    {
        var inv = CultureInfo.InvariantCulture;
        Html.Table(writer, ["stopped by", "exits", "elapsed (ms)", "debug-exit status", "rip", "detail"],
        [[
            value.Reason.ToString(),
            value.Exits.ToString("N0", inv),
            value.Elapsed.TotalMilliseconds.ToString("0.0", inv),
            value.ExitStatus is { } s ? $"0x{s.ToString("x", inv)} ({s.ToString(inv)})" : "",
            "0x" + value.Rip.ToString("x", inv),
            value.Detail,
        ]]);
    }
}
