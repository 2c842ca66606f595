using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace KvmLab.Kvm;

/// <summary>
/// Why one KVM_RUN returned, decoded from kvm_run into a small value (no allocation per exit). It is a tagged
/// union like kvm_run's: switch on <see cref="Reason"/>, then read the matching view (<see cref="Io"/>,
/// <see cref="Mmio"/>, ...). Reading a view that does not match <see cref="Reason"/> is a caller mistake and
/// throws <see cref="InvalidOperationException"/>. Exit reasons KvmLab does not decode are data too
/// (<see cref="Unsupported"/>), never an exception.
/// </summary>
[KvmLab.Notebooks.TypeFormatterSource(KvmLab.Notebooks.TypeFormatterSourceAttribute.KvmLabSource)]
public readonly struct VcpuExit
{
    private readonly ulong _a, _b, _c;
    private readonly uint _u;
    private readonly ExitDataWords _words;

    private VcpuExit(ExitReason reason, uint rawReason, ulong a = 0, ulong b = 0, ulong c = 0, uint u = 0, ExitDataWords words = default)
    {
        Reason = reason;
        RawReason = rawReason;
        (_a, _b, _c, _u, _words) = (a, b, c, u, words);
    }

    /// <summary>The exit reason (kvm_run.exit_reason); for undecoded numbers see <see cref="IsDecoded"/>.</summary>
    public ExitReason Reason { get; }

    /// <summary>The raw kvm_run.exit_reason number.</summary>
    public uint RawReason { get; }

    /// <summary>Whether KvmLab decodes this reason into a typed view (otherwise use <see cref="Unsupported"/>).</summary>
    public bool IsDecoded => IsDecodedReason(Reason);

    /// <summary>The port access of a <see cref="ExitReason.Io"/> exit.</summary>
    public IoExit Io => Reason == ExitReason.Io
        ? new IoExit((IoDirection)(byte)(_c >> 24), (ushort)_c, (byte)(_c >> 16), _u, _a, _b)
        : throw WrongView(ExitReason.Io);

    /// <summary>The memory access of a <see cref="ExitReason.Mmio"/> exit.</summary>
    public MmioExit Mmio => Reason == ExitReason.Mmio ? new MmioExit(_c != 0, _a, _u, _b) : throw WrongView(ExitReason.Mmio);

    /// <summary>The view of a <see cref="ExitReason.Hlt"/> exit.</summary>
    public HltExit Hlt => Reason == ExitReason.Hlt ? default : throw WrongView(ExitReason.Hlt);

    /// <summary>The view of a <see cref="ExitReason.Shutdown"/> exit (triple fault).</summary>
    public ShutdownExit Shutdown => Reason == ExitReason.Shutdown ? default : throw WrongView(ExitReason.Shutdown);

    /// <summary>The view of a <see cref="ExitReason.Intr"/> exit (stop request or signal).</summary>
    public IntrExit Intr => Reason == ExitReason.Intr ? default : throw WrongView(ExitReason.Intr);

    /// <summary>The view of a <see cref="ExitReason.IrqWindowOpen"/> exit.</summary>
    public IrqWindowOpenExit IrqWindowOpen => Reason == ExitReason.IrqWindowOpen ? default : throw WrongView(ExitReason.IrqWindowOpen);

    /// <summary>The view of a <see cref="ExitReason.SetTpr"/> exit.</summary>
    public SetTprExit SetTpr => Reason == ExitReason.SetTpr ? default : throw WrongView(ExitReason.SetTpr);

    /// <summary>The details of a <see cref="ExitReason.FailEntry"/> exit.</summary>
    public FailEntryExit FailEntry => Reason == ExitReason.FailEntry ? new FailEntryExit(_a, _u) : throw WrongView(ExitReason.FailEntry);

    /// <summary>The details of a <see cref="ExitReason.InternalError"/> exit.</summary>
    public InternalErrorExit InternalError =>
        Reason == ExitReason.InternalError ? new InternalErrorExit(_u, _words) : throw WrongView(ExitReason.InternalError);

    /// <summary>The details of a <see cref="ExitReason.Debug"/> exit.</summary>
    public DebugExit Debug => Reason == ExitReason.Debug ? new DebugExit(_u, _a, _b, _c) : throw WrongView(ExitReason.Debug);

    /// <summary>The details of a <see cref="ExitReason.SystemEvent"/> exit.</summary>
    public SystemEventExit SystemEvent =>
        Reason == ExitReason.SystemEvent ? new SystemEventExit(_u, _words) : throw WrongView(ExitReason.SystemEvent);

    /// <summary>The details of a <see cref="ExitReason.Unknown"/> exit.</summary>
    public UnknownExit Unknown => Reason == ExitReason.Unknown ? new UnknownExit(_a) : throw WrongView(ExitReason.Unknown);

    /// <summary>The raw data of an exit whose reason is not decoded (<see cref="IsDecoded"/> is false).</summary>
    public UnsupportedExit Unsupported => !IsDecoded
        ? new UnsupportedExit(RawReason, _words)
        : throw new InvalidOperationException($"This is a decoded {Reason} exit; read its own view instead of {nameof(Unsupported)}.");

    internal static VcpuExit ForIo(IoDirection direction, ushort port, byte size, uint count, ulong dataOffset, ulong value) =>
        new(ExitReason.Io, (uint)ExitReason.Io, dataOffset, value, port | ((ulong)size << 16) | ((ulong)direction << 24), count);

    internal static VcpuExit ForMmio(bool isWrite, ulong address, uint length, ulong data) =>
        new(ExitReason.Mmio, (uint)ExitReason.Mmio, address, data, isWrite ? 1UL : 0, length);

    internal static VcpuExit ForDebug(uint exception, ulong pc, ulong dr6, ulong dr7) =>
        new(ExitReason.Debug, (uint)ExitReason.Debug, pc, dr6, dr7, exception);

    internal static VcpuExit ForFailEntry(ulong reason, uint cpu) => new(ExitReason.FailEntry, (uint)ExitReason.FailEntry, reason, u: cpu);

    internal static VcpuExit ForInternalError(uint suberror, ExitDataWords words) =>
        new(ExitReason.InternalError, (uint)ExitReason.InternalError, u: suberror, words: words);

    internal static VcpuExit ForSystemEvent(uint type, ExitDataWords words) =>
        new(ExitReason.SystemEvent, (uint)ExitReason.SystemEvent, u: type, words: words);

    internal static VcpuExit ForUnknown(ulong hardwareReason) => new(ExitReason.Unknown, 0, hardwareReason);

    internal static VcpuExit ForUnsupported(uint rawReason, ExitDataWords words) => new((ExitReason)rawReason, rawReason, words: words);

    internal static VcpuExit ForReason(ExitReason reason) => new(reason, (uint)reason);

    internal static bool IsDecodedReason(ExitReason reason) => reason is ExitReason.Io or ExitReason.Mmio or ExitReason.Hlt
        or ExitReason.Shutdown or ExitReason.Intr or ExitReason.IrqWindowOpen or ExitReason.SetTpr or ExitReason.FailEntry
        or ExitReason.InternalError or ExitReason.Debug or ExitReason.SystemEvent or ExitReason.Unknown;

    /// <inheritdoc/>
    public override string ToString() => Reason switch
    {
        ExitReason.Io => Io.ToString(),
        ExitReason.Mmio => Mmio.ToString(),
        ExitReason.Hlt => Hlt.ToString(),
        ExitReason.Shutdown => Shutdown.ToString(),
        ExitReason.Intr => Intr.ToString(),
        ExitReason.IrqWindowOpen => IrqWindowOpen.ToString(),
        ExitReason.SetTpr => SetTpr.ToString(),
        ExitReason.FailEntry => FailEntry.ToString(),
        ExitReason.InternalError => InternalError.ToString(),
        ExitReason.Debug => Debug.ToString(),
        ExitReason.SystemEvent => SystemEvent.ToString(),
        ExitReason.Unknown => Unknown.ToString(),
        _ => Unsupported.ToString(),
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SuppressMessage("Performance", "CA1822", Justification = "Reads Reason for the message.")]
    private InvalidOperationException WrongView(ExitReason wanted) =>
        new($"This exit is {Reason}, not {wanted}: switch on {nameof(Reason)} before reading the {wanted} view.");
}
