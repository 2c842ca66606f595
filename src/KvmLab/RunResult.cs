namespace KvmLab;

/// <summary>How a run ended.</summary>
/// <param name="Reason">Why it stopped.</param>
/// <param name="Exits">KVM exits taken during this run.</param>
/// <param name="Elapsed">Wall time of this run.</param>
/// <param name="ExitStatus">isa-debug-exit's status ((value &lt;&lt; 1) | 1) when <paramref name="Reason"/> is IsaDebugExit.</param>
/// <param name="Rip">Guest RIP when the run stopped.</param>
/// <param name="Detail">Details of an abnormal stop (entry failure reason, internal error suberror, ...), or empty.</param>
[KvmLab.Notebooks.TypeFormatterSource(KvmLab.Notebooks.TypeFormatterSourceAttribute.KvmLabSource)]
public sealed record RunResult(StopReason Reason, long Exits, TimeSpan Elapsed, ulong? ExitStatus, ulong Rip, string Detail)
{
    /// <summary>True for a halt or a debug-exit: the guest finished on its own.</summary>
    public bool Finished => Reason is StopReason.Halted or StopReason.IsaDebugExit;

    /// <inheritdoc />
    public override string ToString()
    {
        var status = ExitStatus is { } s ? $" status {s}" : "";
        var detail = Detail.Length > 0 ? $": {Detail}" : "";
        return $"{Reason}{status} after {Exits} exits in {Elapsed.TotalMilliseconds:F1} ms at rip=0x{Rip:x}{detail}";
    }
}
