using KvmLab.Notebooks;

namespace KvmLab.Tracing;

/// <summary>One row of a kvm_stat / <c>perf kvm stat</c>-like table.</summary>
/// <param name="Key">What the row counts: an exit reason, a device or a device.register.</param>
/// <param name="Count">Number of exits (or accesses, for device and register rows).</param>
/// <param name="Percent">Share of the table's total count.</param>
/// <param name="RatePerSecond">Count divided by the trace's duration.</param>
/// <param name="MinNanos">Fastest handling (KVM_RUN return to completion), ns.</param>
/// <param name="AvgNanos">Average handling, ns.</param>
/// <param name="MaxNanos">Slowest handling, ns.</param>
/// <param name="AvgRoundTripNanos">Average of time in KVM_RUN plus handling: the full cost of one exit, ns.</param>
[TypeFormatterSource(TypeFormatterSourceAttribute.KvmLabSource)]
public sealed record StatRow(string Key, long Count, double Percent, double RatePerSecond,
    long MinNanos, double AvgNanos, long MaxNanos, double AvgRoundTripNanos);

/// <summary>How rows are grouped.</summary>
public enum StatGrouping
{
    /// <summary>By kvm_run.exit_reason, counting KVM exits only (like kvm_stat).</summary>
    Reason,

    /// <summary>By device, counting every access (what kvm_stat cannot attribute).</summary>
    Device,

    /// <summary>By device.register, counting every access.</summary>
    Register,

    /// <summary>By access kind (pio-read, mmio-write, ...), counting every access.</summary>
    Access,
}

/// <summary>Statistics over a <see cref="ExitTrace"/>: count, %, rate and handling latency per group.</summary>
public static class TraceStatistics
{
    /// <summary>Rows for <paramref name="grouping"/>, largest count first.</summary>
    public static IReadOnlyList<StatRow> Compute(ExitTrace trace, StatGrouping grouping)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var acc = new Dictionary<string, Accumulator>();
        foreach (ref readonly var r in trace.Records())
        {
            if (grouping == StatGrouping.Reason && !r.IsExit) continue;
            var key = KeyOf(trace, r, grouping);
            if (key is null) continue;
            if (!acc.TryGetValue(key, out var a)) acc[key] = a = new Accumulator();
            a.Add(r);
        }
        var total = acc.Values.Sum(a => a.Count);
        var seconds = trace.DurationNanos / 1e9;
        return acc.Select(kv => kv.Value.ToRow(kv.Key, total, seconds))
            .OrderByDescending(row => row.Count).ThenBy(row => row.Key, StringComparer.Ordinal).ToList();
    }

    private static string? KeyOf(ExitTrace trace, in ExitRecord r, StatGrouping grouping)
    {
        switch (grouping)
        {
            case StatGrouping.Reason:
                return ExitReasonNames.Of(r.Reason);
            case StatGrouping.Access:
                return r.Access == TraceAccess.None ? null : r.Access.Label();
            case StatGrouping.Device:
                if (r.Access == TraceAccess.None) return null;
                return trace.SourceOf(r)?.Device ?? "(unassigned)";
            default:
                if (r.Access == TraceAccess.None) return null;
                var source = trace.SourceOf(r);
                if (source is null) return "(unassigned)";
                var reg = source.RegisterName(r.Register);
                return reg is null ? $"{source.Device}.0x{r.Address:x}" : $"{source.Device}.{reg}";
        }
    }

    private sealed class Accumulator
    {
        public long Count;
        private long _sum, _roundTrip, _min = long.MaxValue, _max;

        public void Add(in ExitRecord r)
        {
            Count++;
            _sum += r.HandlerNanos;
            _roundTrip += (long)r.HandlerNanos + r.RunNanos;
            _min = Math.Min(_min, r.HandlerNanos);
            _max = Math.Max(_max, r.HandlerNanos);
        }

        public StatRow ToRow(string key, long total, double seconds) => new(key, Count,
            total == 0 ? 0 : 100.0 * Count / total, seconds > 0 ? Count / seconds : 0,
            Count == 0 ? 0 : _min, Count == 0 ? 0 : (double)_sum / Count, _max, Count == 0 ? 0 : (double)_roundTrip / Count);
    }
}
