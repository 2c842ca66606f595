using KvmLab.Memory;

namespace KvmLab.Tracing;

/// <summary>
/// The run loop's writer into an <see cref="ExitTrace"/>: appends the records the loop composes, keeps the last one
/// (also when tracing is off), interns each region a record points at as a <see cref="TraceRegion"/> (device, region,
/// address space, register names) the first time it appears, and holds back the MSIs a device sends while an access
/// is dispatched so that they follow that access's record, as QEMU's trace shows them. Nothing here allocates once
/// every region has been seen and the trace's capacity is reserved.
/// </summary>
internal sealed class TraceRecorder
{
    /// <summary>Region name of the MSI records (QEMU's under KVM: the in-kernel APIC's MSI region).</summary>
    public const string MsiRegion = "kvm-apic-msi";

    // Register names of an MSI source: the device's vectors.
    private const int MsiVectorNames = 32;

    private readonly ExitTrace _trace;
    private readonly bool _tracing;
    private readonly MemoryRegion _ioRoot;
    private readonly Dictionary<MemoryRegion, ushort> _regionIndex = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, ushort> _msiSources = new(StringComparer.Ordinal);
    private readonly ExitRecord[] _heldMsis = new ExitRecord[8];
    private int _held;
    private bool _holding;
    private MemoryRegion? _lastRegion;
    private ushort _lastIndex = ExitRecord.None;
    private ExitRecord _last;

    /// <param name="trace">Where records go when <paramref name="tracing"/> is on.</param>
    /// <param name="tracing">Off: only the last record is kept.</param>
    /// <param name="ioRoot">The root of the "io" address space: a region below it is named as port I/O.</param>
    public TraceRecorder(ExitTrace trace, bool tracing, MemoryRegion ioRoot)
    {
        _trace = trace;
        _tracing = tracing;
        _ioRoot = ioRoot;
    }

    /// <summary>The last record appended (an MSI sent outside a dispatch does not count).</summary>
    public ref readonly ExitRecord Last => ref _last;

    /// <summary>Appends <paramref name="record"/> (when tracing) and makes it the last record.</summary>
    public void Append(in ExitRecord record)
    {
        _last = record;
        if (_tracing) _trace.Add(record);
    }

    /// <summary>
    /// Appends the access record of a dispatch, then the MSIs the device sent while it ran (held since
    /// <see cref="BeginDispatch"/>), and stops holding them.
    /// </summary>
    public void AppendDispatched(in ExitRecord record)
    {
        Append(record);
        if (_tracing)
            for (var i = 0; i < _held; i++) _trace.Add(_heldMsis[i]);
        _held = 0;
    }

    /// <summary>From here until the dispatch's record (<see cref="AppendDispatched"/>) or <see cref="EndDispatch"/>, MSIs wait.</summary>
    public void BeginDispatch() => _holding = true;

    /// <summary>Stops holding MSIs (a dispatch ended, whether or not it appended a record).</summary>
    public void EndDispatch() => _holding = false;

    /// <summary>
    /// An MSI a device sent (KVM_SIGNAL_MSI): a write of the message data to the message address flagged
    /// <see cref="ExitFlags.Observed"/> (no exit), the device's vector as its register, so that it compares with the
    /// MSI write QEMU's memory API traces. Not the last record: that stays the exit a stop condition or a step looks at.
    /// </summary>
    public void RecordMsi(long timestampNanos, ulong address, uint data, string device, int vector)
    {
        var record = new ExitRecord(timestampNanos, Kvm.ExitReason.Unknown, TraceAccess.MmioWrite, address, 4, data, _last.Rip,
            ExitFlags.Observed, MsiSource(device), vector is >= 0 and < ExitRecord.None ? (ushort)vector : ExitRecord.None, 0, 0);
        if (_holding && _held < _heldMsis.Length) _heldMsis[_held++] = record;
        else if (_tracing) _trace.Add(record);
    }

    /// <summary>The trace's index of <paramref name="region"/>, interned on first sight; <see cref="ExitRecord.None"/> for none.</summary>
    public ushort SourceOf(MemoryRegion? region)
    {
        if (region is null) return ExitRecord.None;
        if (ReferenceEquals(region, _lastRegion)) return _lastIndex;
        if (!_regionIndex.TryGetValue(region, out var index))
        {
            var space = IsIn(region, _ioRoot) ? "io" : "memory";
            var names = region.Registers?.Registers.Select(r => r.Name).ToArray() ?? Array.Empty<string>();
            index = _trace.AddSource(new TraceRegion(region.Owner ?? region.Name, region.Name, space, names));
            _regionIndex[region] = index;
        }
        _lastRegion = region;
        _lastIndex = index;
        return index;
    }

    /// <summary>The last record with its names resolved.</summary>
    public ResolvedExit ResolveLast() => _trace.Resolve(_trace.Count - 1, _last);

    // One source per device, named after the region QEMU's kvm accelerator traces MSI writes in.
    private ushort MsiSource(string device)
    {
        if (!_tracing) return ExitRecord.None;
        if (_msiSources.TryGetValue(device, out var index)) return index;
        var vectors = Enumerable.Range(0, MsiVectorNames).Select(v => $"vector {v}").ToArray();
        index = _trace.AddSource(new TraceRegion(device, MsiRegion, "memory", vectors));
        _msiSources[device] = index;
        return index;
    }

    private static bool IsIn(MemoryRegion region, MemoryRegion root)
    {
        for (var r = region; r is not null; r = r.Container)
            if (ReferenceEquals(r, root)) return true;
        return false;
    }
}
