namespace KvmLab.Kvm.Stats;

/// <summary>
/// The change of a stats file's counters between two snapshots: how many exits, I/O exits, MMIO exits, emulated
/// instructions, page faults ... the kernel counted in between. Levels and peaks (<see cref="KvmStatKind.Instant"/>,
/// <see cref="KvmStatKind.Peak"/>) are not events; they are reported as their later value.
/// </summary>
public sealed class KvmStatsDelta
{
    internal KvmStatsDelta(KvmStatsSnapshot from, KvmStatsSnapshot to)
    {
        From = from;
        To = to;
    }

    /// <summary>The earlier snapshot.</summary>
    public KvmStatsSnapshot From { get; }

    /// <summary>The later snapshot.</summary>
    public KvmStatsSnapshot To { get; }

    /// <summary>Time between the two reads.</summary>
    public TimeSpan Elapsed => System.Diagnostics.Stopwatch.GetElapsedTime(From.Timestamp, To.Timestamp);

    /// <summary>The change of counter <paramref name="name"/> (for a level or peak: its later value; for a histogram:
    /// the change of its total count).</summary>
    /// <exception cref="KeyNotFoundException">This kernel has no such statistic; the message lists what it has.</exception>
    public long this[string name]
    {
        get
        {
            var d = To.File.Find(name) ?? throw KvmStatsSnapshot.Unknown(To.File, name);
            return Change(d);
        }
    }

    /// <summary>The change of <paramref name="name"/>, or 0 when this kernel has no such statistic.</summary>
    public long GetValueOrDefault(string name) => To.File.Find(name) is { } d ? Change(d) : 0;

    /// <summary>The counters that moved, with their change, in the kernel's order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Changed =>
        To.File.Descriptors.Where(d => d.IsCounter || d.IsHistogram)
            .Select(d => new KeyValuePair<string, long>(d.Name, Change(d)))
            .Where(kv => kv.Value != 0)
            .ToList();

    private long Change(KvmStatDescriptor d)
    {
        if (d.Kind is KvmStatKind.Instant or KvmStatKind.Peak)
            return (long)To.ValueAt(d.Index);
        long sum = 0;
        for (var i = 0; i < d.Size; i++)
            sum += (long)(To.ValueAt(d.Index + i) - From.ValueAt(d.Index + i));
        return sum;
    }

    /// <summary>"exits +13, io_exits +11": the counters that moved.</summary>
    public override string ToString()
    {
        var changed = Changed;
        return changed.Count == 0 ? "(no counter moved)" : string.Join(", ", changed.Select(kv => $"{kv.Key} {kv.Value:+#;-#;0}"));
    }
}
