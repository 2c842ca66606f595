namespace KvmLab.Qemu;

/// <summary>What one QEMU run produced.</summary>
/// <param name="Arguments">The command line QEMU was started with (without the program path).</param>
/// <param name="Accelerator">The accelerator it ran under.</param>
/// <param name="ExitCode">QEMU's process exit status (an isa-debug-exit write of v exits with (v &lt;&lt; 1) | 1).</param>
/// <param name="TimedOut">True when the deadline passed and KvmLab killed QEMU.</param>
/// <param name="IsaDebugExitValue">
/// The byte the guest wrote to isa-debug-exit, when the trace shows that write and the exit status agrees with it;
/// null when the run ended any other way.
/// </param>
/// <param name="Serial">Raw bytes the guest sent to COM1.</param>
/// <param name="RawTrace">The trace text QEMU wrote (<c>-D</c> file).</param>
/// <param name="Trace">The parsed trace.</param>
/// <param name="StandardError">QEMU's stderr (warnings such as unsupported CPUID features under kvm_pvm, errors).</param>
/// <param name="Elapsed">Wall-clock time from start to exit.</param>
public sealed record QemuRunResult(
    IReadOnlyList<string> Arguments,
    QemuAccelerator Accelerator,
    int ExitCode,
    bool TimedOut,
    int? IsaDebugExitValue,
    byte[] Serial,
    string RawTrace,
    QemuTrace Trace,
    string StandardError,
    TimeSpan Elapsed)
{
    /// <summary>COM1 output as text, one char per byte (Latin-1), so no byte is lost to decoding.</summary>
    public string SerialText => System.Text.Encoding.Latin1.GetString(Serial);

    /// <summary>
    /// True when KVM stopped the guest with KVM_EXIT_INTERNAL_ERROR (QEMU printed its register dump to
    /// <see cref="StandardError"/> and paused); the runner then kills QEMU at once instead of waiting for the deadline.
    /// </summary>
    public bool KvmInternalError => StandardError.Contains(QemuRunner.KvmInternalError, StringComparison.Ordinal);

    /// <summary>A one-line summary.</summary>
    public override string ToString() =>
        (KvmInternalError ? $"QEMU ({Accelerator}) stopped by a KVM internal error after {Elapsed.TotalSeconds:0.0} s"
        : TimedOut ? $"QEMU ({Accelerator}) killed after {Elapsed.TotalSeconds:0.0} s" : $"QEMU ({Accelerator}) exited with {ExitCode}")
        + (IsaDebugExitValue is { } v ? $" (isa-debug-exit 0x{v:x2})" : "") + $", {Serial.Length} serial bytes; {Trace}";
}
