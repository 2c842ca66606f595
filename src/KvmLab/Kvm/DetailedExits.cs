namespace KvmLab.Kvm;

/// <summary>The CPU refused VM entry (KVM_EXIT_FAIL_ENTRY), usually because the guest state is invalid.</summary>
/// <param name="HardwareEntryFailureReason">The hardware's reason code (VMX exit reason / SVM exit code).</param>
/// <param name="Cpu">The host CPU the entry was attempted on.</param>
public readonly record struct FailEntryExit(ulong HardwareEntryFailureReason, uint Cpu)
{
    /// <inheritdoc/>
    public override string ToString() => $"FAIL_ENTRY reason 0x{HardwareEntryFailureReason:X} cpu {Cpu}";
}

/// <summary>KVM could not continue (KVM_EXIT_INTERNAL_ERROR): e.g. suberror 1 = instruction emulation failed.</summary>
/// <param name="Suberror">KVM_INTERNAL_ERROR_* code.</param>
/// <param name="Data">The first data words the kernel attached.</param>
public readonly record struct InternalErrorExit(uint Suberror, ExitDataWords Data)
{
    /// <summary>A name for <see cref="Suberror"/>.</summary>
    public string SuberrorName => Suberror switch
    {
        1 => "EMULATION",
        2 => "SIMUL_EX",
        3 => "DELIVERY_EV",
        4 => "UNEXPECTED_EXIT_REASON",
        _ => "UNKNOWN",
    };

    /// <inheritdoc/>
    public override string ToString() => $"INTERNAL_ERROR suberror {Suberror} ({SuberrorName}) data {Data}";
}

/// <summary>A debug event (KVM_EXIT_DEBUG): single-step (#DB, DR6.BS) or a breakpoint.</summary>
/// <param name="Exception">The exception vector: 1 (#DB) or 3 (#BP).</param>
/// <param name="Pc">The guest RIP of the event.</param>
/// <param name="Dr6">DR6 at the event (bit 14 BS = single-step, bits 0-3 = which DRn hit).</param>
/// <param name="Dr7">DR7 at the event.</param>
public readonly record struct DebugExit(uint Exception, ulong Pc, ulong Dr6, ulong Dr7)
{
    /// <summary>True when DR6.BS says this was a single step.</summary>
    public bool IsSingleStep => (Dr6 & (1UL << 14)) != 0;

    /// <inheritdoc/>
    public override string ToString() => $"DEBUG exception {Exception} pc 0x{Pc:X} dr6 0x{Dr6:X} dr7 0x{Dr7:X}";
}

/// <summary>A system event (KVM_EXIT_SYSTEM_EVENT) such as a firmware-requested shutdown or reset.</summary>
/// <param name="Type">KVM_SYSTEM_EVENT_*: 1 shutdown, 2 reset, 3 crash, 4 wakeup, 5 suspend, 6 SEV terminate.</param>
/// <param name="Data">The event's flags/data words (word 0 is the legacy <c>flags</c>).</param>
public readonly record struct SystemEventExit(uint Type, ExitDataWords Data)
{
    /// <summary>A name for <see cref="Type"/>.</summary>
    public string TypeName => Type switch
    {
        1 => "SHUTDOWN",
        2 => "RESET",
        3 => "CRASH",
        4 => "WAKEUP",
        5 => "SUSPEND",
        6 => "SEV_TERM",
        _ => "UNKNOWN",
    };

    /// <inheritdoc/>
    public override string ToString() => $"SYSTEM_EVENT {Type} ({TypeName}) data {Data}";
}

/// <summary>KVM met a hardware exit it does not handle (KVM_EXIT_UNKNOWN).</summary>
/// <param name="HardwareExitReason">The hardware exit reason.</param>
public readonly record struct UnknownExit(ulong HardwareExitReason)
{
    /// <inheritdoc/>
    public override string ToString() => $"UNKNOWN hardware reason 0x{HardwareExitReason:X}";
}

/// <summary>An exit reason KvmLab does not decode; the raw number and the first words of the union are kept.</summary>
/// <param name="RawReason">The kvm_run.exit_reason number.</param>
/// <param name="Data">The first four 64-bit words of the kvm_run exit union.</param>
public readonly record struct UnsupportedExit(uint RawReason, ExitDataWords Data)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"exit reason {RawReason}{(Enum.IsDefined((ExitReason)RawReason) ? $" ({(ExitReason)RawReason})" : "")} (not decoded) data {Data}";
}
