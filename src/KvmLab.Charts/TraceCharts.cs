using System.Globalization;
using System.Runtime.InteropServices;
using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Charts;

/// <summary>
/// The standard charts of a trace. Every chart reads the trace in one pass and keeps its output small: a trace of
/// a million exits becomes a few hundred points, and the chart's title says when exits were aggregated.
/// </summary>
public static class TraceCharts
{
    /// <summary>Traces with at most this many records are drawn exit by exit on the timeline; longer ones are binned.</summary>
    public const int TimelineMarkerLimit = 5000;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>All standard charts of <paramref name="trace"/>, in the order a lesson shows them.</summary>
    public static IReadOnlyList<TraceChart> All(ExitTrace trace) =>
        [ExitReasons(trace), Timeline(trace), PciConfigMap(trace), AccessesPerDevice(trace), AccessesPerRegister(trace), HandlerLatency(trace)];

    /// <summary>KVM exits per exit reason (bars), counting KVM exits only as kvm_stat does.</summary>
    public static TraceChart ExitReasons(ExitTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var counts = new Dictionary<ExitReason, long>();
        long total = 0;
        foreach (ref readonly var r in trace.Records())
        {
            if (!r.IsExit) continue;
            counts[r.Reason] = counts.GetValueOrDefault(r.Reason) + 1;
            total++;
        }
        var ordered = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).ToList();
        return new TraceChart(ChartKind.Bar, $"KVM exits by reason ({N(total)} exits, {trace.Name})", "exit reason", "exits",
            ordered.Select(kv => ExitReasonNames.Of(kv.Key)).ToList(),
            [ChartSeries.Bars("exits", ordered.Select(kv => (double)kv.Value).ToList())]);
    }

    /// <summary>
    /// Exits over time. Up to <see cref="TimelineMarkerLimit"/> records: one marker per exit at its time, on the row
    /// of the device register (or exit reason) it hit. Longer traces: exits per reason counted in
    /// <paramref name="bins"/> equal time bins, and the title says so.
    /// </summary>
    public static TraceChart Timeline(ExitTrace trace, int bins = 200)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var n = trace.Count;
        if (n == 0) return new TraceChart(ChartKind.Line, $"Exits over time ({trace.Name}: empty trace)", "time", "exits", [], []);
        var t0 = trace[0].TimestampNanos;
        var span = Math.Max(1, trace[n - 1].TimestampNanos - t0);
        var (unit, scale) = TimeUnit(span);
        return n <= TimelineMarkerLimit ? TimelineMarkers(trace, t0, unit, scale) : TimelineBinned(trace, t0, span, bins, unit, scale);
    }

    private static TraceChart TimelineMarkers(ExitTrace trace, long t0, string unit, double scale)
    {
        var rows = new Dictionary<string, int>();
        var series = new Dictionary<ExitReason, (List<double> X, List<double> Y)>();
        for (var i = 0; i < trace.Count; i++)
        {
            var e = trace.Resolve(i);
            var label = e.Record.Access == TraceAccess.None ? e.ReasonName : e.Target.Length == 0 ? e.Record.Access.Label() : e.Target;
            if (!rows.TryGetValue(label, out var row)) rows[label] = row = rows.Count;
            if (!series.TryGetValue(e.Record.Reason, out var s)) series[e.Record.Reason] = s = (new List<double>(), new List<double>());
            s.X.Add((e.Record.TimestampNanos - t0) / scale);
            s.Y.Add(row);
        }
        return new TraceChart(ChartKind.Markers, $"Exits over time ({N(trace.Count)} records, one marker each, {trace.Name})",
            $"time since first exit ({unit})", "target", rows.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToList(),
            series.Select(kv => new ChartSeries(ExitReasonNames.Of(kv.Key), kv.Value.X, kv.Value.Y)).ToList());
    }

    private static TraceChart TimelineBinned(ExitTrace trace, long t0, long span, int bins, string unit, double scale)
    {
        var width = (double)span / bins;
        var counts = new Dictionary<ExitReason, double[]>();
        long exits = 0;
        foreach (ref readonly var r in trace.Records())
        {
            if (!r.IsExit) continue;
            exits++;
            if (!counts.TryGetValue(r.Reason, out var c)) counts[r.Reason] = c = new double[bins];
            c[Math.Min(bins - 1, (int)((r.TimestampNanos - t0) / width))]++;
        }
        var x = Enumerable.Range(0, bins).Select(i => (i + 0.5) * width / scale).ToArray();
        var binText = (width / scale).ToString("0.###", Inv) + " " + unit;
        return new TraceChart(ChartKind.Line,
            $"Exits over time: {N(exits)} exits aggregated into {bins} bins of {binText} ({trace.Name})",
            $"time since first exit ({unit})", $"exits per {binText}", [],
            counts.OrderByDescending(kv => kv.Value.Sum()).Select(kv => new ChartSeries(ExitReasonNames.Of(kv.Key), x, kv.Value)).ToList());
    }

    /// <summary>
    /// PCI configuration accesses as a heatmap: one row per function (bb:dd.f), one column per configuration offset
    /// touched, the cell counting accesses by conf1 and ECAM together (decoded by <see cref="PciConfigAccesses"/>).
    /// </summary>
    public static TraceChart PciConfigMap(ExitTrace trace)
    {
        var accesses = PciConfigAccesses.From(trace);
        var functions = accesses.Select(a => a.Function).Distinct().Order().ToList();
        var offsets = accesses.Select(a => a.Offset).Distinct().Order().ToList();
        var values = new double[functions.Count, offsets.Count];
        var row = functions.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i);
        var column = offsets.Select((o, i) => (o, i)).ToDictionary(p => p.o, p => p.i);
        var conf1 = 0;
        foreach (var a in accesses)
        {
            values[row[a.Function], column[a.Offset]]++;
            if (a.Mechanism == PciConfigMechanism.Conf1) conf1++;
        }
        var title = accesses.Count == 0
            ? $"PCI configuration accesses: none in this trace ({trace.Name})"
            : $"PCI configuration accesses: {N(accesses.Count)} ({N(conf1)} conf1, {N(accesses.Count - conf1)} ECAM)";
        return new TraceChart(ChartKind.Heatmap, title, "configuration offset", "function (bus:dev.fn)", [], [],
            new HeatmapData(offsets.Select(o => $"0x{o:x2}").ToList(), functions.Select(f => f.ToString()).ToList(), values));
    }

    /// <summary>Device accesses per device, reads and writes stacked; "(unassigned)" gathers accesses no region claimed.</summary>
    public static TraceChart AccessesPerDevice(ExitTrace trace) =>
        Accesses(trace, "Accesses per device", "device", (source, _) => source?.Device ?? "(unassigned)");

    /// <summary>Device accesses per device register, reads and writes stacked; optionally only one device's registers.</summary>
    public static TraceChart AccessesPerRegister(ExitTrace trace, string? device = null) =>
        Accesses(trace, device is null ? "Accesses per register" : $"Accesses per {device} register", "device.register",
            (source, r) => source is null ? "(unassigned)" : source.RegisterName(r.Register) is { } name ? $"{source.Device}.{name}" : $"{source.Device}.0x{r.Address:x}",
            device);

    private static TraceChart Accesses(ExitTrace trace, string what, string axis, Func<TraceRegion?, ExitRecord, string> keyOf, string? device = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        // Counting by (source, register) numbers first keeps a million-exit pass free of string building; registers
        // without a name are told apart by address.
        var counts = new Dictionary<(int Source, int Register, ulong Address), ReadWriteCount>();
        foreach (ref readonly var r in trace.Records())
        {
            if (r.Access == TraceAccess.None) continue;
            var source = trace.SourceOf(r);
            if (device is not null && source?.Device != device) continue;
            var key = source is null ? (-1, -1, 0UL) : (r.Source, (int)r.Register, source.RegisterName(r.Register) is null ? r.Address : 0UL);
            ref var c = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out var existed);
            if (!existed) c.Sample = r;
            if (r.Access.IsRead()) c.Reads++; else c.Writes++;
        }
        var merged = new Dictionary<string, (long Reads, long Writes)>();
        foreach (var c in counts.Values)
        {
            var label = keyOf(trace.SourceOf(c.Sample), c.Sample);
            var m = merged.GetValueOrDefault(label);
            merged[label] = (m.Reads + c.Reads, m.Writes + c.Writes);
        }
        var rows = merged.OrderByDescending(kv => kv.Value.Reads + kv.Value.Writes).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var total = rows.Sum(kv => kv.Value.Reads + kv.Value.Writes);
        return new TraceChart(ChartKind.Bar, $"{what} ({N(total)} accesses, {trace.Name})", axis, "accesses",
            rows.Select(kv => kv.Key).ToList(),
            [ChartSeries.Bars("reads", rows.Select(kv => (double)kv.Value.Reads).ToList()),
             ChartSeries.Bars("writes", rows.Select(kv => (double)kv.Value.Writes).ToList())],
            stacked: true);
    }

    /// <summary>
    /// Histogram of exit handling latency (KVM_RUN's return to the access's completion) in log-spaced bins,
    /// four per doubling, so that both the common case and the slow tail are visible.
    /// </summary>
    public static TraceChart HandlerLatency(ExitTrace trace) => HandlerLatency(trace, null);

    /// <summary>
    /// <see cref="HandlerLatency(ExitTrace)"/> for the exits of one reason only (PIO and MMIO apart), or all when
    /// <paramref name="reason"/> is null. The time is user space's part of the round trip: from KVM_RUN's return to
    /// the device access's completion (kvm_run decode, address-space lookup, device handler, trace record), not the
    /// kernel's (that is each record's RunNanos).
    /// </summary>
    public static TraceChart HandlerLatency(ExitTrace trace, ExitReason? reason)
    {
        ArgumentNullException.ThrowIfNull(trace);
        const int perDoubling = 4;
        var counts = new long[33 * perDoubling];
        long exits = 0;
        foreach (ref readonly var r in trace.Records())
        {
            if (!r.IsExit || reason is { } only && r.Reason != only) continue;
            exits++;
            counts[Bin(r.HandlerNanos)]++;
        }
        var first = Array.FindIndex(counts, c => c > 0);
        var last = Array.FindLastIndex(counts, c => c > 0);
        var labels = new List<string>();
        var values = new List<double>();
        for (var i = Math.Max(first, 0); i <= last; i++)
        {
            labels.Add(Duration(Math.Pow(2, (double)i / perDoubling)));
            values.Add(counts[i]);
        }
        var what = reason is { } r2 ? $"KVM_EXIT_{ExitReasonNames.Of(r2)} handling latency in user space" : "Exit handling latency";
        return new TraceChart(ChartKind.Bar, $"{what} ({N(exits)} exits, log-spaced bins, {trace.Name})",
            "handling time, bin start", "exits", labels, [ChartSeries.Bars("exits", values)]);

        static int Bin(uint nanos) => nanos <= 1 ? 0 : Math.Min(33 * perDoubling - 1, (int)(Math.Log2(nanos) * perDoubling));
    }

    private struct ReadWriteCount
    {
        public long Reads;
        public long Writes;
        public ExitRecord Sample;
    }

    private static (string Unit, double Scale) TimeUnit(long spanNanos) =>
        spanNanos >= 10_000_000_000 ? ("s", 1e9) : spanNanos >= 10_000_000 ? ("ms", 1e6) : spanNanos >= 10_000 ? ("µs", 1e3) : ("ns", 1);

    private static string Duration(double nanos) =>
        nanos >= 1e9 ? (nanos / 1e9).ToString("0.##", Inv) + " s"
        : nanos >= 1e6 ? (nanos / 1e6).ToString("0.##", Inv) + " ms"
        : nanos >= 1e3 ? (nanos / 1e3).ToString("0.##", Inv) + " µs"
        : nanos.ToString("0", Inv) + " ns";

    private static string N(long n) => n.ToString("N0", Inv);
}
