using System.Diagnostics;

namespace KvmLab.Kvm.Stats;

/// <summary>The values of one <see cref="KvmStatsFile"/> at one moment.</summary>
public sealed class KvmStatsSnapshot
{
    private readonly ulong[] _values;

    internal KvmStatsSnapshot(KvmStatsFile file, ulong[] values, long timestamp)
    {
        File = file;
        _values = values;
        Timestamp = timestamp;
    }

    /// <summary>The file it was read from (its id and descriptors).</summary>
    public KvmStatsFile File { get; }

    /// <summary>When it was read (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long Timestamp { get; }

    /// <summary>The first (for a histogram: bucket 0) value of statistic <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">This kernel has no such statistic; the message lists what it has.</exception>
    public ulong this[string name] => Values(name)[0];

    /// <summary>True, with its value, when this kernel has statistic <paramref name="name"/>.</summary>
    public bool TryGet(string name, out ulong value)
    {
        if (File.Find(name) is { } d) { value = _values[d.Index]; return true; }
        value = 0;
        return false;
    }

    /// <summary>Every value of statistic <paramref name="name"/> (the buckets of a histogram).</summary>
    /// <exception cref="KeyNotFoundException">This kernel has no such statistic; the message lists what it has.</exception>
    public ReadOnlySpan<ulong> Values(string name)
    {
        var d = File.Find(name) ?? throw Unknown(File, name);
        return _values.AsSpan(d.Index, d.Size);
    }

    /// <summary>Each statistic's first value, by name, in the kernel's order.</summary>
    public IReadOnlyList<KeyValuePair<string, ulong>> ToList() =>
        File.Descriptors.Select(d => new KeyValuePair<string, ulong>(d.Name, _values[d.Index])).ToList();

    /// <summary>What happened between <paramref name="earlier"/> and this snapshot (same file).</summary>
    public KvmStatsDelta Since(KvmStatsSnapshot earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        if (!ReferenceEquals(earlier.File, File))
            throw new ArgumentException($"the snapshots come from different stats files ({earlier.File.Id} and {File.Id})", nameof(earlier));
        return new KvmStatsDelta(earlier, this);
    }

    internal ulong ValueAt(int index) => _values[index];

    internal static KeyNotFoundException Unknown(KvmStatsFile file, string name) =>
        new($"{file.Id} has no statistic '{name}'. This kernel's are: {string.Join(", ", file.Descriptors.Select(d => d.Name))}.");

    /// <inheritdoc/>
    public override string ToString() =>
        $"{File.Id}: " + string.Join(", ", File.Descriptors.Where(d => _values[d.Index] != 0).Select(d => $"{d.Name} {_values[d.Index]}"));
}
