using System.Runtime.InteropServices;
using KvmLab.Kvm;

namespace KvmLab.Tracing;

/// <summary>
/// One traced exit (or one element of a string-I/O exit), 48 bytes, stored by value so that tracing a million exits
/// costs 48 MB and no per-exit allocation. Names (device, region, register) are indices into the owning
/// <see cref="Trace"/>'s source table and resolved only when someone reads them.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly struct ExitRecord
{
    /// <summary>Size of one record in bytes (the trace's memory cost per exit).</summary>
    public const int SizeInBytes = 48;

    /// <summary>"No source" / "no register" marker.</summary>
    public const ushort None = ushort.MaxValue;

    private readonly long _timestamp;
    private readonly ulong _address;
    private readonly ulong _value;
    private readonly ulong _rip;
    private readonly uint _runNanos;
    private readonly uint _handlerNanos;
    private readonly byte _reason;
    private readonly TraceAccess _access;
    private readonly byte _size;
    private readonly ExitFlags _flags;
    private readonly ushort _source;
    private readonly ushort _register;

    /// <summary>Creates a record; durations saturate at uint.MaxValue nanoseconds (~4.3 s).</summary>
    public ExitRecord(long timestampNanos, ExitReason reason, TraceAccess access, ulong address, byte size, ulong value,
        ulong rip, ExitFlags flags, ushort source, ushort register, long runNanos, long handlerNanos)
    {
        _timestamp = timestampNanos;
        _reason = reason <= (ExitReason)byte.MaxValue ? (byte)reason : byte.MaxValue;
        _access = access;
        _address = address;
        _size = size;
        _value = value;
        _rip = rip;
        _flags = flags;
        _source = source;
        _register = register;
        _runNanos = Saturate(runNanos);
        _handlerNanos = Saturate(handlerNanos);
    }

    /// <summary>Nanoseconds since the trace started, taken when KVM_RUN returned.</summary>
    public long TimestampNanos => _timestamp;

    /// <summary>kvm_run.exit_reason (reasons above 255, which x86 KVM does not produce, read as 255).</summary>
    public ExitReason Reason => (ExitReason)_reason;

    /// <summary>Address space and direction of the access, or <see cref="TraceAccess.None"/>.</summary>
    public TraceAccess Access => _access;

    /// <summary>Port number or guest-physical address.</summary>
    public ulong Address => _address;

    /// <summary>Access size in bytes (1, 2, 4 or 8), 0 when not an access.</summary>
    public int Size => _size;

    /// <summary>Value written, or value returned to the guest for a read.</summary>
    public ulong Value => _value;

    /// <summary>
    /// Guest RIP as KVM reported it at the exit: at IN and MMIO-read instructions, past MMIO writes, and at an OUT on
    /// SVM/VMX but past it on kvm_pvm (<see cref="KvmLab.Kvm.KvmBehaviour"/> measures which).
    /// </summary>
    public ulong Rip => _rip;

    /// <summary>Facts a reader must not miss (unassigned, rejected, string-I/O continuation, coalesced).</summary>
    public ExitFlags Flags => _flags;

    /// <summary>Index into <see cref="Trace.Sources"/>, or <see cref="None"/>.</summary>
    public ushort Source => _source;

    /// <summary>Index into the source's register names, or <see cref="None"/>.</summary>
    public ushort Register => _register;

    /// <summary>Nanoseconds spent inside KVM_RUN before this exit (guest time plus KVM's entry/exit).</summary>
    public uint RunNanos => _runNanos;

    /// <summary>Nanoseconds from KVM_RUN's return until the access was completed (our dispatch + device).</summary>
    public uint HandlerNanos => _handlerNanos;

    /// <summary>True when this record is a KVM exit of its own (not a string-I/O continuation, ring replay or observed state).</summary>
    public bool IsExit => (_flags & (ExitFlags.Continuation | ExitFlags.Coalesced | ExitFlags.Observed)) == 0;

    private static uint Saturate(long nanos) => nanos <= 0 ? 0 : nanos >= uint.MaxValue ? uint.MaxValue : (uint)nanos;
}
