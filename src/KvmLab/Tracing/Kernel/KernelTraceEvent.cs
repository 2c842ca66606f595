using System.Globalization;
using System.Text.RegularExpressions;

namespace KvmLab.Tracing.Kernel;

/// <summary>
/// One KVM tracepoint hit, read back from tracefs: when (CLOCK_MONOTONIC, the clock of <see cref="System.Diagnostics.Stopwatch"/>
/// and of KvmLab's trace), on which CPU and thread, which event, its text, and the fields KvmLab decodes from it.
/// </summary>
/// <param name="TimestampNanos">Monotonic time in nanoseconds (the instance runs with <c>trace_clock</c> mono).</param>
/// <param name="Cpu">The host CPU it fired on.</param>
/// <param name="Thread">The host thread (the vCPU's thread for the exit path).</param>
/// <param name="Name">The event, e.g. <c>kvm_exit</c>.</param>
/// <param name="Text">The event's own text, as the kernel formats it.</param>
public sealed partial record KernelTraceEvent(long TimestampNanos, int Cpu, int Thread, string Name, string Text)
{
    /// <summary>kvm_exit: the hardware exit reason as the kernel names it (SVM <c>io</c>, <c>npf</c>, <c>hlt</c>;
    /// VMX <c>IO_INSTRUCTION</c>, <c>EPT_VIOLATION</c>, <c>EPT_MISCONFIG</c>); null for other events.</summary>
    public string? ExitReason => Name == "kvm_exit" ? ReasonPattern().Match(Text) is { Success: true } m ? m.Groups[1].Value : null : null;

    /// <summary>kvm_exit: exit information 1 (SVM EXITINFO1: for npf the page-fault error code; VMX the qualification).</summary>
    public ulong? Info1 => Hex(Info1Pattern());

    /// <summary>kvm_exit: exit information 2 (SVM EXITINFO2: for npf the faulting guest-physical address).</summary>
    public ulong? Info2 => Hex(Info2Pattern());

    /// <summary>kvm_exit and kvm_entry: the guest's RIP.</summary>
    public ulong? Rip => Hex(RipPattern());

    /// <summary>kvm_pio: the port; kvm_mmio and kvm_fast_mmio: the guest-physical address.</summary>
    public ulong? Address => Name switch
    {
        "kvm_pio" => Hex(PioPattern()),
        "kvm_mmio" or "kvm_fast_mmio" => Hex(GpaPattern()),
        _ => null,
    };

    /// <summary>kvm_pio and kvm_mmio: true for a write, false for a read.</summary>
    public bool? IsWrite => Name switch
    {
        "kvm_pio" => Text.StartsWith("pio_write", StringComparison.Ordinal),
        "kvm_mmio" => Text.StartsWith("mmio write", StringComparison.Ordinal),
        "kvm_fast_mmio" => true,
        _ => null,
    };

    /// <summary>kvm_userspace_exit: the exit KVM_RUN returned with, e.g. <c>KVM_EXIT_IO</c>.</summary>
    public string? UserspaceExit => Name == "kvm_userspace_exit" && UserspacePattern().Match(Text) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>For an SVM nested page fault (npf): true when the error code in info1 has the reserved-bit flag (bit 3),
    /// i.e. the access hit a cached MMIO SPTE; false for a not-present fault; null for other exits.</summary>
    public bool? NpfReservedBit => ExitReason == "npf" && Info1 is { } e ? (e & 0x8) != 0 : null;

    private ulong? Hex(Regex pattern) =>
        pattern.Match(Text) is { Success: true } m && ulong.TryParse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <inheritdoc/>
    public override string ToString() => $"{TimestampNanos / 1e9:F6} cpu{Cpu} tid {Thread} {Name}: {Text}";

    [GeneratedRegex(@"reason (\S+)")]
    private static partial Regex ReasonPattern();

    [GeneratedRegex(@"info1 0x([0-9a-fA-F]+)")]
    private static partial Regex Info1Pattern();

    [GeneratedRegex(@"info2 0x([0-9a-fA-F]+)")]
    private static partial Regex Info2Pattern();

    [GeneratedRegex(@"rip 0x([0-9a-fA-F]+)")]
    private static partial Regex RipPattern();

    [GeneratedRegex(@"^pio_\w+ at 0x([0-9a-fA-F]+)")]
    private static partial Regex PioPattern();

    [GeneratedRegex(@"gpa 0x([0-9a-fA-F]+)")]
    private static partial Regex GpaPattern();

    [GeneratedRegex(@"^reason (\S+)")]
    private static partial Regex UserspacePattern();
}
