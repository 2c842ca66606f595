using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Tracing;

namespace KvmLab;

/// <summary>One guest instruction executed under single-step (<see cref="MachineDebugger.StepInstruction"/>).</summary>
/// <param name="Ip">The instruction pointer before the instruction (the offset in CS in real mode).</param>
/// <param name="LinearAddress">CS base + <paramref name="Ip"/>: where the instruction's bytes are (guest-physical too,
/// since KvmLab's guests run unpaged or identity-mapped).</param>
/// <param name="Mode">The CPU mode the instruction ran in (from CR0.PE, EFER.LMA and CS.L), so that a guest that
/// switches modes itself is decoded with the right bitness.</param>
/// <param name="Code">Up to 15 bytes of guest RAM at <paramref name="LinearAddress"/>: the instruction and what follows
/// it (decode the first instruction to get its text; KvmLab.Guests does, with Iced).</param>
/// <param name="Registers">The general-purpose registers after the instruction.</param>
/// <param name="Stop"><see cref="StopReason.Debug"/> when the step completed normally; otherwise how the instruction
/// ended the run (<see cref="StopReason.IsaDebugExit"/> for the OUT to isa-debug-exit, <see cref="StopReason.Halted"/>,
/// <see cref="StopReason.Timeout"/> for a HLT nothing wakes, ...).</param>
/// <param name="Accesses">The device accesses the instruction made (its KVM_EXIT_IO / KVM_EXIT_MMIO records); empty
/// for instructions that stay inside the guest, and when tracing is off.</param>
public sealed record InstructionStep(
    ulong Ip,
    ulong LinearAddress,
    CpuMode Mode,
    byte[] Code,
    Registers Registers,
    StopReason Stop,
    IReadOnlyList<ResolvedExit> Accesses)
{
    /// <summary>The instruction pointer after the instruction.</summary>
    public ulong NextIp => Registers.Rip;

    /// <summary>True when the instruction completed and the vCPU can go on.</summary>
    public bool Completed => Stop == StopReason.Debug;

    /// <inheritdoc />
    public override string ToString()
    {
        var bytes = Convert.ToHexString(Code).ToLowerInvariant();
        var accesses = Accesses.Count == 0 ? "" : $" ({string.Join("; ", Accesses.Select(a => a.Target.Length > 0 ? a.Target : a.Record.Access.Label()))})";
        var stop = Completed ? "" : $" [{Stop}]";
        return $"0x{LinearAddress:x} {Mode} {bytes} -> rip=0x{NextIp:x}{accesses}{stop}";
    }
}
