using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Tracing;

namespace KvmLab.Guests;

/// <summary>
/// The instruction behind a trace record of a <see cref="Machine"/>, in NASM syntax, read from the machine's guest RAM
/// at the record's RIP and decoded with <see cref="TrapDisassembler"/>: at RIP where KVM left RIP at the instruction,
/// ending at RIP where KVM completed it first, as this host's KVM measurably does for that kind of exit
/// (<see cref="MachineDebugger.Behaviour"/>).
/// </summary>
/// <remarks>
/// <para>A record holds RIP only, not the segment or mode it ran in. By default the record is decoded in the mode of
/// the machine's image, and in real mode RIP is taken as an offset in the image's load segment (CS = load address /
/// 16, as KvmLab's loader sets it). Guests that reload CS or switch modes themselves (the <c>modes</c> guest) are
/// decoded right by passing <c>mode</c> and <c>codeSegmentBase</c> for the part in question; or single-step them with
/// <see cref="MachineDebugger.StepInstruction"/>, whose steps record the real mode and CS base.</para>
/// <para>The linear address is read as guest-physical: KvmLab's guests run unpaged or identity-mapped.</para>
/// </remarks>
public static class TraceDisassembly
{
    private const int Window = 15;

    /// <summary>The trapped instruction of trace record <paramref name="index"/>, or null when the record is not a device
    /// access (HLT, DEBUG, ...), was replayed from the coalesced ring (it has no RIP), or no decoding fits.</summary>
    /// <param name="machine">The machine whose trace and RAM are read.</param>
    /// <param name="index">Index into <see cref="Machine.Trace"/>.</param>
    /// <param name="mode">The mode to decode in; default: the image's.</param>
    /// <param name="codeSegmentBase">Real mode only: CS base; default: the image's load segment.</param>
    public static TrappedInstruction? Of(Machine machine, int index, CpuMode? mode = null, ulong? codeSegmentBase = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return Of(machine, machine.Trace.Resolve(index), mode, codeSegmentBase);
    }

    /// <summary>The trapped instruction of <paramref name="exit"/> (see <see cref="Of(Machine, int, CpuMode?, ulong?)"/>).</summary>
    public static TrappedInstruction? Of(Machine machine, ResolvedExit exit, CpuMode? mode = null, ulong? codeSegmentBase = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(exit);
        var record = exit.Record;
        if (record.Access == TraceAccess.None || record.Flags.HasFlag(ExitFlags.Coalesced)) return null;
        var image = machine.Image ?? throw new InvalidOperationException("The machine has no image loaded: nothing says which mode its code runs in.");
        var m = mode ?? image.Mode;
        var segmentBase = m == CpuMode.Real ? codeSegmentBase ?? (image.LoadAddress & ~0xFUL) : 0;
        var kind = record.Access switch
        {
            TraceAccess.PioRead => TrapKind.PortRead,
            TraceAccess.PioWrite => TrapKind.PortWrite,
            TraceAccess.MmioRead => TrapKind.MmioRead,
            _ => TrapKind.MmioWrite,
        };

        var ram = machine.Ram;
        var linear = segmentBase + record.Rip;
        var start = Math.Max(Math.Max(linear, Window) - Window, Math.Max(ram.GuestPhysicalAddress, segmentBase));
        var end = Math.Min(linear + Window, ram.End);
        if (linear < start || linear > end) return null;
        var code = ram.GetSpan(start, (int)(end - start));
        var isPio = record.Access.IsPio();
        ushort? port = isPio ? (ushort)record.Address : null;
        var position = machine.Debugger.Behaviour.IsRipPast(isPio, kind is TrapKind.PortWrite or TrapKind.MmioWrite) ? ExitRip.PastInstruction : ExitRip.AtInstruction;
        return TrapDisassembler.FindTrappingInstruction(code, start - segmentBase, record.Rip, m, kind, record.Size, position, port);
    }

    /// <summary>The trapped instruction of <paramref name="exit"/>, e.g. <c>machine.InstructionAt(machine.LastRecord)</c>.</summary>
    public static TrappedInstruction? InstructionAt(this Machine machine, ResolvedExit exit) => Of(machine, exit);

    /// <summary>The trapped instruction of trace record <paramref name="index"/>.</summary>
    public static TrappedInstruction? InstructionAt(this Machine machine, int index) => Of(machine, index);

    /// <summary>The first instruction of a single step, decoded from the bytes it recorded in the mode it ran in.</summary>
    public static DisassembledInstruction Disassemble(this InstructionStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var decoded = TrapDisassembler.Disassemble(step.Code, step.Ip, step.Mode, 1);
        return decoded.Count > 0 ? decoded[0] : new DisassembledInstruction(step.Ip, [], "(bad)");
    }
}
