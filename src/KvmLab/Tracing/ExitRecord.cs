using System.Runtime.InteropServices;
using KvmLab.Kvm;
using KvmLab.Pci;

namespace KvmLab.Tracing;

/// <summary>
/// One traced exit (or one element of a string-I/O exit), 48 bytes, stored by value so that tracing a million exits
/// costs 48 MB and no per-exit allocation. Names (device, region, register) are indices into the owning
/// <see cref="ExitTrace"/>'s source table and resolved only when someone reads them.
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
    public ulong Value => (_flags & ExitFlags.ConfigCycle) != 0 ? (uint)_value : _value;

    /// <summary>
    /// Guest RIP as KVM reported it at the exit: at IN and MMIO-read instructions, past MMIO writes, and at an OUT on
    /// SVM/VMX but past it on kvm_pvm (<see cref="KvmLab.Kvm.KvmBehaviour"/> measures which).
    /// </summary>
    public ulong Rip => _rip;

    /// <summary>Facts a reader must not miss (unassigned, rejected, string-I/O continuation, coalesced).</summary>
    public ExitFlags Flags => _flags;

    /// <summary>Index into <see cref="ExitTrace.Sources"/>, or <see cref="None"/>.</summary>
    public ushort Source => _source;

    /// <summary>Index into the source's register names, or <see cref="None"/>.</summary>
    public ushort Register => _register;

    /// <summary>Nanoseconds spent inside KVM_RUN before this exit (guest time plus KVM's entry/exit).</summary>
    public uint RunNanos => _runNanos;

    /// <summary>Nanoseconds from KVM_RUN's return until the access was completed (our dispatch + device).</summary>
    public uint HandlerNanos => _handlerNanos;

    /// <summary>True when this record is a KVM exit of its own (not a string-I/O continuation, ring replay or observed state).</summary>
    public bool IsExit => (_flags & (ExitFlags.Continuation | ExitFlags.Coalesced | ExitFlags.Observed)) == 0;

    /// <summary>
    /// The PCI function and register a configuration access reached, as the host decoded them when it dispatched the
    /// access (<see cref="ExitFlags.ConfigCycle"/>); false for every other record.
    /// </summary>
    /// <param name="function">Bus, device and function.</param>
    /// <param name="register">Byte offset in the function's configuration space (conf1: CONFIG_ADDRESS bits 7:0 with
    /// the data port's byte lane; ECAM: bits 11:0 of the window offset).</param>
    public bool TryGetConfigTarget(out PciAddress function, out int register)
    {
        if ((_flags & ExitFlags.ConfigCycle) == 0)
        {
            function = default;
            register = 0;
            return false;
        }
        var target = (uint)(_value >> 32);
        function = new PciAddress((int)(target >> 20) & 0xFF, (int)(target >> 15) & 0x1F, (int)(target >> 12) & 0x7);
        register = (int)(target & 0xFFF);
        return true;
    }

    /// <summary>
    /// This record marked <see cref="ExitFlags.ConfigCycle"/> with the function and register the access reached.
    /// Configuration accesses carry at most 4 bytes, so the target shares the value's 8 bytes and the record stays
    /// <see cref="SizeInBytes"/> bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The register is outside 0..0xFFF.</exception>
    public ExitRecord WithConfigTarget(PciAddress function, int register)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)register, 0xFFFu, nameof(register));
        var target = ((ulong)(uint)function.Bus << 20) | ((ulong)(uint)function.DevFn << 12) | (uint)register;
        return new ExitRecord(this, (target << 32) | (uint)_value, _flags | ExitFlags.ConfigCycle);
    }

    private ExitRecord(in ExitRecord record, ulong value, ExitFlags flags)
    {
        this = record;
        _value = value;
        _flags = flags;
    }

    private static uint Saturate(long nanos) => nanos <= 0 ? 0 : nanos >= uint.MaxValue ? uint.MaxValue : (uint)nanos;
}
