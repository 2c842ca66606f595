using KvmLab.Kvm;

namespace KvmLab;

/// <summary>
/// Why a run stopped, in words, kept as data until someone reads it: a debug exit ends every single step, and
/// formatting its address into a string there would make each step allocate. Text details (rare stops) are kept as
/// the string they already are.
/// </summary>
internal readonly struct StopDetail
{
    private enum Kind : byte
    {
        Text,
        SingleStep,
        Breakpoint,
        Watchpoint,
        Debug,
    }

    private readonly Kind _kind;
    private readonly string? _text;
    private readonly DebugExit _debug;
    private readonly HardwareBreakpoint _watchpoint;

    private StopDetail(Kind kind, string? text, DebugExit debug, HardwareBreakpoint watchpoint)
    {
        _kind = kind;
        _text = text;
        _debug = debug;
        _watchpoint = watchpoint;
    }

    public static implicit operator StopDetail(string text) => new(Kind.Text, text, default, default);

    public static StopDetail SingleStep(in DebugExit debug) => new(Kind.SingleStep, null, debug, default);

    public static StopDetail Breakpoint(in DebugExit debug) => new(Kind.Breakpoint, null, debug, default);

    public static StopDetail Watchpoint(in DebugExit debug, HardwareBreakpoint watchpoint) => new(Kind.Watchpoint, null, debug, watchpoint);

    public static StopDetail Debug(in DebugExit debug) => new(Kind.Debug, null, debug, default);

    public override string ToString() => _kind switch
    {
        Kind.SingleStep => $"single step to 0x{_debug.Pc:x}",
        Kind.Breakpoint => $"breakpoint at 0x{_debug.Pc:x}",
        Kind.Watchpoint => $"watchpoint 0x{_watchpoint.Address:x} ({_watchpoint.Length} byte(s), {_watchpoint.Kind}) hit; the instruction before 0x{_debug.Pc:x} accessed it",
        Kind.Debug => _debug.ToString(),
        _ => _text ?? "",
    };
}
