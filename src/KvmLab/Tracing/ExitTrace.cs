using System.Collections;

using KvmLab.Notebooks;

namespace KvmLab.Tracing;

/// <summary>
/// An append-only list of <see cref="ExitRecord"/>s in fixed-size chunks, plus the table of
/// <see cref="TraceRegion"/>s the records point into. One writer (the run loop) appends without allocating once
/// capacity is reserved (<see cref="Reserve"/>); readers on other threads (a live statistics view) see a consistent
/// prefix.
/// </summary>
[TypeFormatterSource(TypeFormatterSourceAttribute.KvmLabSource)]
public sealed class ExitTrace : IReadOnlyList<ExitRecord>
{
    private const int ChunkShift = 14;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private readonly List<TraceRegion> _sources = new();
    private ExitRecord[][] _chunks = Array.Empty<ExitRecord[]>();
    private int _allocatedChunks;
    private long _capacity;
    private int _count;

    /// <summary>Creates an empty trace.</summary>
    /// <param name="name">What was traced, e.g. the guest's name.</param>
    public ExitTrace(string name = "trace") => Name = name;

    /// <summary>What was traced, e.g. the guest's name.</summary>
    public string Name { get; set; }

    /// <summary>Number of records (KVM exits plus string-I/O continuations and coalesced replays).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Number of records that are KVM exits of their own (see <see cref="ExitRecord.IsExit"/>).</summary>
    public int ExitCount
    {
        get
        {
            var n = 0;
            foreach (ref readonly var r in Records()) if (r.IsExit) n++;
            return n;
        }
    }

    /// <summary>Sources (device regions) that records refer to by index.</summary>
    internal IReadOnlyList<TraceRegion> Sources => _sources;

    /// <summary>Bytes of record storage currently allocated (chunks), the trace's memory footprint.</summary>
    public long AllocatedBytes => _capacity * ExitRecord.SizeInBytes;

    /// <summary>Nanoseconds between the first record and the end of the last one's handling.</summary>
    public long DurationNanos
    {
        get
        {
            var n = Count;
            if (n == 0) return 0;
            var last = this[n - 1];
            return last.TimestampNanos + last.HandlerNanos - this[0].TimestampNanos + this[0].RunNanos;
        }
    }

    /// <summary>The record at <paramref name="index"/> (0 is the first exit).</summary>
    public ExitRecord this[int index]
    {
        get
        {
            var n = Count;
            if ((uint)index >= (uint)n) throw new ArgumentOutOfRangeException(nameof(index), index, $"the trace holds {n} records");
            return Volatile.Read(ref _chunks)[index >> ChunkShift][index & ChunkMask];
        }
    }

    /// <summary>Registers a source and returns the index records use for it; an equal source is reused.</summary>
    internal ushort AddSource(TraceRegion source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var i = _sources.FindIndex(s => s.Device == source.Device && s.Region == source.Region && s.AddressSpace == source.AddressSpace);
        if (i >= 0) return (ushort)i;
        if (_sources.Count >= ExitRecord.None) throw new InvalidOperationException($"a trace holds at most {ExitRecord.None} sources");
        _sources.Add(source);
        return (ushort)(_sources.Count - 1);
    }

    /// <summary>Source of a record, or null when it touched no device.</summary>
    internal TraceRegion? SourceOf(in ExitRecord record) => record.Source < _sources.Count ? _sources[record.Source] : null;

    /// <summary>Register name of a record ("FACTORIAL"), or null.</summary>
    public string? RegisterOf(in ExitRecord record) => SourceOf(record)?.RegisterName(record.Register);

    /// <summary>Makes room for <paramref name="records"/> more records so that appending them allocates nothing.</summary>
    public void Reserve(int records)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(records);
        var need = (long)_count + records;
        while (_capacity < need) Grow();
    }

    /// <summary>
    /// Shrinks the last, partly filled chunk to the records it holds, so that the trace costs 48 bytes per record
    /// (a run ends with this). The next <see cref="Add"/> restores a full chunk.
    /// </summary>
    public void TrimExcess()
    {
        if (_allocatedChunks == 0) return;
        var last = _allocatedChunks - 1;
        var used = _count - (last << ChunkShift);
        var chunk = _chunks[last];
        if (used >= chunk.Length) return;
        if (used <= 0)
        {
            _chunks[last] = null!;
            _allocatedChunks--;
            _capacity -= chunk.Length;
            return;
        }
        var trimmed = new ExitRecord[used];
        Array.Copy(chunk, trimmed, used);
        _chunks[last] = trimmed;
        _capacity -= chunk.Length - used;
    }

    /// <summary>Appends one record. Single writer only.</summary>
    public void Add(in ExitRecord record)
    {
        var n = _count;
        if (n >= _capacity)
        {
            if (n == int.MaxValue) throw new InvalidOperationException("the trace is full (2^31-1 records); clear it or start a new one");
            Grow();
        }
        _chunks[n >> ChunkShift][n & ChunkMask] = record;
        Volatile.Write(ref _count, n + 1);
    }

    /// <summary>Forgets all records (sources and allocated storage are kept for reuse).</summary>
    public void Clear() => Volatile.Write(ref _count, 0);

    /// <summary>Iterates the records without copying them.</summary>
    public RecordEnumerable Records() => new(this, Count);

    /// <summary>A record with its names resolved, for display and export.</summary>
    public ResolvedExit Resolve(int index) => Resolve(index, this[index]);

    // Also for the machine's last record, which exists even when tracing is off.
    internal ResolvedExit Resolve(int index, in ExitRecord record)
    {
        var source = SourceOf(record);
        return new ResolvedExit(index, record, source?.Device, source?.Region, source?.RegisterName(record.Register));
    }

    /// <inheritdoc />
    public IEnumerator<ExitRecord> GetEnumerator()
    {
        var n = Count;
        for (var i = 0; i < n; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"Trace '{Name}': {Count} records, {ExitCount} exits, {Sources.Count} sources";

    private void Grow()
    {
        var table = _chunks;
        if (_allocatedChunks > 0 && table[_allocatedChunks - 1].Length < ChunkSize)
        {
            // A trimmed last chunk: bring it back to full size.
            var trimmed = table[_allocatedChunks - 1];
            var full = new ExitRecord[ChunkSize];
            Array.Copy(trimmed, full, trimmed.Length);
            table[_allocatedChunks - 1] = full;
            _capacity += ChunkSize - trimmed.Length;
            return;
        }
        if (_allocatedChunks == table.Length)
        {
            var bigger = new ExitRecord[Math.Max(4, table.Length * 2)][];
            Array.Copy(table, bigger, _allocatedChunks);
            table = bigger;
        }
        table[_allocatedChunks] = new ExitRecord[ChunkSize];
        Volatile.Write(ref _chunks, table);
        _allocatedChunks++;
        _capacity += ChunkSize;
    }

    /// <summary>A by-reference enumeration of a consistent prefix of the trace.</summary>
    public readonly ref struct RecordEnumerable
    {
        private readonly ExitRecord[][] _chunks;
        private readonly int _count;

        internal RecordEnumerable(ExitTrace trace, int count)
        {
            _count = count;
            _chunks = Volatile.Read(ref trace._chunks);
        }

        /// <summary>Gets the enumerator.</summary>
        public Enumerator GetEnumerator() => new(_chunks, _count);

        /// <summary>Enumerator yielding references into the chunks.</summary>
        public ref struct Enumerator
        {
            private readonly ExitRecord[][] _chunks;
            private readonly int _count;
            private int _index;

            internal Enumerator(ExitRecord[][] chunks, int count)
            {
                _chunks = chunks;
                _count = count;
                _index = -1;
            }

            /// <summary>The current record.</summary>
            public readonly ref readonly ExitRecord Current => ref _chunks[_index >> ChunkShift][_index & ChunkMask];

            /// <summary>Advances.</summary>
            public bool MoveNext() => ++_index < _count;
        }
    }
}
