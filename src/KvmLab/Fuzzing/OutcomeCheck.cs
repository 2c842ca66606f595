using KvmLab.Kvm;
using static KvmLab.Kvm.ControlRegisterBits;

namespace KvmLab.Fuzzing;

/// <summary>
/// Checks that a fuzz run's <see cref="StopReason"/> is one the run could have produced, from what the machine shows
/// afterwards: a run loop that mislabels an outcome (a vCPU left halted by the previous guest "halting" the next one
/// at once, a timeout reported early, an exit limit that was not reached) is a host fault, not guest behaviour.
/// </summary>
internal static class OutcomeCheck
{
    private const byte Hlt = 0xF4;
    private const ulong Present = 1;
    private const ulong LargePage = 1UL << 7;
    private const ulong AddressBits = 0x000F_FFFF_FFFF_F000;

    /// <summary>Null when <paramref name="result"/> is consistent with the run; otherwise what contradicts it.</summary>
    /// <param name="result">How the run ended.</param>
    /// <param name="options">The session's limits.</param>
    /// <param name="cancelled">True when the session or the watchdog cancelled the run.</param>
    /// <param name="readGuestByte">Reads the byte at a linear address the way the vCPU would fetch it, or null when
    /// the address cannot be translated (no RAM there, or the guest's page tables do not map it).</param>
    public static string? Contradiction(RunResult result, GuestFuzzOptions options, bool cancelled, Func<ulong, byte?> readGuestByte)
    {
        switch (result.Reason)
        {
            case StopReason.Halted:
                // HLT leaves RIP past its one-byte opcode (KVM_EXIT_HLT, or the vCPU parked in KVM_MP_STATE_HALTED).
                var before = readGuestByte(result.Rip - 1);
                return before is null or Hlt
                    ? null
                    : $"reported Halted, but the byte before rip 0x{result.Rip:x} is 0x{before:x2}, not HLT (0xf4): the halt is not this guest's";
            case StopReason.IsaDebugExit:
                // The written value is as wide as the OUT (1, 2 or 4 bytes), as in QEMU's debug_exit_write.
                return result.ExitStatus is { } s && (s & 1) == 1 && s <= ((ulong)uint.MaxValue << 1 | 1)
                    ? null
                    : $"reported IsaDebugExit with status {result.ExitStatus?.ToString() ?? "none"}; isa-debug-exit gives (value << 1) | 1 for the value written";
            case StopReason.ExitLimit:
                return result.Exits == options.MaxExits ? null : $"reported ExitLimit after {result.Exits} exits with a limit of {options.MaxExits}";
            case StopReason.Timeout:
                // The deadline is taken before the first KVM_RUN and the elapsed time after the last: never shorter.
                return result.Elapsed >= options.Timeout
                    ? null
                    : $"reported Timeout after {result.Elapsed.TotalMilliseconds:F1} ms, before its {options.Timeout.TotalMilliseconds:F0} ms deadline";
            case StopReason.Cancelled:
                return cancelled ? null : "reported Cancelled, but neither the session nor the watchdog cancelled it";
            case StopReason.Debug or StopReason.Condition or StopReason.Stepped:
                return $"reported {result.Reason}, which needs a breakpoint, a single step or a stop condition: the fuzzer sets none";
            default:
                return null;
        }
    }

    /// <summary>
    /// The byte an instruction fetch at <paramref name="rip"/> in code segment <paramref name="sregs"/>.Cs reads, through
    /// the guest's own page tables (none, 32-bit with 4 MiB pages, PAE, or 4-level), or null where that leads outside RAM or to
    /// a page that is not present.
    /// </summary>
    public static byte? ReadFetchByte(GuestMemory ram, in SpecialRegisters sregs, ulong rip)
    {
        // Outside 64-bit code the offset is 16 or 32 bits wide as the code segment's cached D bit says, also in real
        // mode: a guest that clears CR0.PE keeps running 32-bit code at the old base until it reloads CS.
        bool longMode = (sregs.Efer & EferLongModeActive) != 0 && sregs.Cs.L != 0;
        ulong linear = longMode ? rip : (sregs.Cs.Base + (rip & (sregs.Cs.Db != 0 ? 0xFFFF_FFFFUL : 0xFFFF))) & 0xFFFF_FFFF;
        var physical = (sregs.Cr0 & Cr0Paging) == 0 ? linear : Walk(ram, sregs, linear);
        return physical is { } p && ram.TryRead(p, out byte value) ? value : null;
    }

    private static ulong? Walk(GuestMemory ram, in SpecialRegisters sregs, ulong linear)
    {
        if ((sregs.Cr4 & Cr4PhysicalAddressExtension) == 0)
        {
            // 32-bit paging: page directory, then a 4 MiB page (CR4.PSE) or a page table.
            if (!Entry32(ram, (sregs.Cr3 & 0xFFFF_F000) + ((linear >> 22) & 0x3FF) * 4, out var pde)) return null;
            if ((pde & LargePage) != 0 && (sregs.Cr4 & Cr4PageSizeExtensions) != 0) return (pde & 0xFFC0_0000) | (linear & 0x3F_FFFF);
            if (!Entry32(ram, (pde & 0xFFFF_F000) + ((linear >> 12) & 0x3FF) * 4, out var pte)) return null;
            return (pte & 0xFFFF_F000) | (linear & 0xFFF);
        }
        ulong table;
        int level;
        if ((sregs.Efer & EferLongModeActive) != 0)
        {
            table = sregs.Cr3 & AddressBits;
            level = 4;
        }
        else
        {
            // PAE: CR3 points at four PDPTEs, indexed by bits 31:30.
            if (!Entry64(ram, (sregs.Cr3 & 0xFFFF_FFE0) + ((linear >> 30) & 3) * 8, out var pdpte)) return null;
            table = pdpte & AddressBits;
            level = 2;
        }
        for (; level >= 1; level--)
        {
            int shift = 12 + 9 * (level - 1);
            if (!Entry64(ram, table + ((linear >> shift) & 0x1FF) * 8, out var entry)) return null;
            if (level is 2 or 3 && (entry & LargePage) != 0)
            {
                ulong pageMask = (1UL << shift) - 1;
                return (entry & AddressBits & ~pageMask) | (linear & pageMask);
            }
            table = entry & AddressBits;
        }
        return table | (linear & 0xFFF);
    }

    private static bool Entry32(GuestMemory ram, ulong at, out ulong entry)
    {
        entry = ram.TryRead(at, out uint e) ? e : 0;
        return (entry & Present) != 0;
    }

    private static bool Entry64(GuestMemory ram, ulong at, out ulong entry)
    {
        if (!ram.TryRead(at, out entry)) entry = 0;
        return (entry & Present) != 0;
    }
}
