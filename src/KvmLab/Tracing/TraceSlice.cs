using System.Collections;

namespace KvmLab.Tracing;

/// <summary>
/// Consecutive records of a trace, with their names resolved: what a sequence diagram or a table of a few exits
/// shows. Take one with <see cref="TraceSliceExtensions.Slice"/>.
/// </summary>
/// <param name="Trace">The trace.</param>
/// <param name="Start">Index of the first record.</param>
/// <param name="Count">Number of records.</param>
public readonly record struct TraceSlice(ExitTrace Trace, int Start, int Count) : IReadOnlyList<ResolvedExit>
{
    /// <summary>The slice's <paramref name="index"/>-th record (0 is <see cref="Start"/>), resolved.</summary>
    public ResolvedExit this[int index] => (uint)index < (uint)Count
        ? Trace.Resolve(Start + index)
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"the slice holds {Count} records");

    /// <inheritdoc />
    public IEnumerator<ResolvedExit> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return Trace.Resolve(Start + i);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"records {Start}..{Start + Count - 1} of trace '{Trace.Name}'";
}

/// <summary>Taking slices of a <see cref="ExitTrace"/>.</summary>
public static class TraceSliceExtensions
{
    /// <summary>Records <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> - 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie inside the trace.</exception>
    public static TraceSlice Slice(this ExitTrace trace, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + count > trace.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"records {start}..{start + count - 1} do not lie inside the trace's {trace.Count}");
        return new TraceSlice(trace, start, count);
    }

    /// <summary>The first <paramref name="count"/> records (all of them when the trace is shorter).</summary>
    public static TraceSlice First(this ExitTrace trace, int count)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return new TraceSlice(trace, 0, Math.Clamp(count, 0, trace.Count));
    }

    /// <summary>
    /// The records from the first one <paramref name="where"/> accepts, <paramref name="count"/> of them (fewer at the
    /// trace's end).
    /// </summary>
    /// <exception cref="InvalidOperationException">No record matches.</exception>
    public static TraceSlice SliceFrom(this ExitTrace trace, Func<ResolvedExit, bool> where, int count)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(where);
        for (var i = 0; i < trace.Count; i++)
            if (where(trace.Resolve(i))) return new TraceSlice(trace, i, Math.Clamp(count, 0, trace.Count - i));
        throw new InvalidOperationException($"no record of trace '{trace.Name}' matches");
    }
}
