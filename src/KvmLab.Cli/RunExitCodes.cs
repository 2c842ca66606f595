namespace KvmLab.Cli;

/// <summary>
/// Process exit codes of <c>kvmlab run</c> and <c>kvmlab stat</c>. A debug-exit returns the status QEMU would,
/// (value &lt;&lt; 1) | 1, which is always odd; every code of kvmlab's own is even, so a script can tell them apart.
/// </summary>
internal static class RunExitCodes
{
    /// <summary>The guest halted with nothing left to wake it.</summary>
    public const int Halted = 0;

    /// <summary>Triple fault (KVM_EXIT_SHUTDOWN) or a guest-requested shutdown/reset (KVM_EXIT_SYSTEM_EVENT).</summary>
    public const int Shutdown = 100;

    /// <summary>KVM_EXIT_FAIL_ENTRY: the hardware refused the register state.</summary>
    public const int FailEntry = 102;

    /// <summary>KVM_EXIT_INTERNAL_ERROR: KVM could not go on (often an instruction it cannot emulate).</summary>
    public const int InternalError = 104;

    /// <summary>--max-exits was reached.</summary>
    public const int ExitLimit = 106;

    /// <summary>An exit the run loop does not handle, or a debug exit nobody asked for.</summary>
    public const int Unsupported = 108;

    /// <summary>--timeout passed, as timeout(1) reports it.</summary>
    public const int Timeout = 124;

    /// <summary>Interrupted by Ctrl+C (128 + SIGINT, as a shell reports it).</summary>
    public const int Cancelled = 130;

    /// <summary>The exit code for <paramref name="result"/>.</summary>
    public static int For(RunResult result) => result.Reason switch
    {
        StopReason.Halted => Halted,
        // The OS keeps 8 bits of an exit status, exactly as it does for QEMU's.
        StopReason.IsaDebugExit => (int)((result.ExitStatus ?? 1) & 0xFF),
        StopReason.Shutdown or StopReason.SystemEvent => Shutdown,
        StopReason.FailEntry => FailEntry,
        StopReason.InternalError => InternalError,
        StopReason.ExitLimit => ExitLimit,
        StopReason.Timeout => Timeout,
        StopReason.Cancelled => Cancelled,
        _ => Unsupported,
    };

    /// <summary>The table printed by <c>--help</c>.</summary>
    public const string HelpTable =
        """
        Exit status:
          0        the guest halted (HLT with nothing left to wake it)
          odd N    the guest wrote V to isa-debug-exit (port 0x501): N = (V << 1) | 1, truncated to 8 bits by
                   the OS, exactly what qemu-system-x86_64 -device isa-debug-exit returns; the library guests
                   write 0x10 on success (exit status 33) and 0x11 on failure (35)
          2        command-line mistake, missing or unloadable image (image too large, overlaps the loader area)
          3        the host cannot provide KVM (see kvmlab doctor)
          100      triple fault (KVM_EXIT_SHUTDOWN) or KVM_EXIT_SYSTEM_EVENT
          102      VM entry failed (KVM_EXIT_FAIL_ENTRY)
          104      KVM internal error (KVM_EXIT_INTERNAL_ERROR), e.g. an instruction KVM cannot emulate
          106      --max-exits reached
          108      an exit reason the run loop does not handle
          124      --timeout passed (as timeout(1))
          130      interrupted (Ctrl+C)
        kvmlab's own codes are even, debug-exit statuses are odd: a script can always tell them apart.
        """;
}
