using System.Diagnostics;
using System.Globalization;
using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// Runs a flat BIOS image under QEMU's <c>pc</c> or <c>q35</c> machine with the devices of a KvmLab board, traces every KVM exit and
/// device access, and hands back serial output, exit status and the parsed trace: QEMU as the reference to compare
/// KvmLab's own run with.
/// </summary>
/// <remarks>
/// The image becomes QEMU's firmware (<c>-bios</c>): it is mapped so that its last 16 bytes hold the reset vector
/// at 0xFFFFFFF0 (and its last 64 KiB also at 0xF0000), and the CPU starts there in real mode at F000:FFF0. QEMU
/// writes trace events with its "log" backend: without <c>-D</c> they go to stderr mixed with warnings, so the runner
/// passes <c>-D file</c>, and <c>-msg timestamp=on</c> to get microsecond timestamps; <c>-trace NAME</c> alone enables
/// an event (no <c>-d trace:</c> needed); <c>-d guest_errors</c> adds the memory core's line for each access it refuses
/// (no region, or a size the region rejects), which has no trace event. The command line has no network device,
/// monitor, display or gdb stub, so QEMU listens on nothing.
/// </remarks>
public sealed class QemuRunner
{
    /// <summary>The executable's name.</summary>
    public const string ExecutableName = "qemu-system-x86_64";

    /// <summary>The trace events the runner enables.</summary>
    public static IReadOnlyList<string> TraceEvents { get; } = ["kvm_run_exit", "memory_region_ops_read", "memory_region_ops_write"];

    private const int BiosGranule = 0x10000;

    /// <summary>Uses <paramref name="qemuPath"/>, or finds QEMU on PATH when null.</summary>
    /// <exception cref="QemuNotFoundException">QEMU is not installed or the path does not exist.</exception>
    public QemuRunner(string? qemuPath = null)
    {
        if (qemuPath is not null && !File.Exists(qemuPath)) throw new QemuNotFoundException(qemuPath);
        QemuPath = qemuPath ?? FindQemu();
    }

    /// <summary>The QEMU executable this runner starts.</summary>
    public string QemuPath { get; }

    /// <summary>Path of qemu-system-x86_64 on PATH (or /usr/bin, /usr/local/bin), or null.</summary>
    public static string? TryFindQemu()
    {
        foreach (var dir in SearchDirectories())
        {
            var candidate = Path.Combine(dir, ExecutableName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Path of qemu-system-x86_64.</summary>
    /// <exception cref="QemuNotFoundException">It is not installed; the message says how to install it.</exception>
    public static string FindQemu() => TryFindQemu() ?? throw new QemuNotFoundException(string.Join(", ", SearchDirectories()));

    /// <summary>The command-line arguments (without the program) for one run.</summary>
    /// <param name="biosPath">The firmware image file.</param>
    /// <param name="serialPath">File that receives COM1 output.</param>
    /// <param name="tracePath">File that receives the trace.</param>
    /// <param name="options">Accelerator and devices.</param>
    public static IReadOnlyList<string> BuildArguments(string biosPath, string serialPath, string tracePath, QemuRunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MemoryMiB, 2);
        var args = new List<string>
        {
            "-accel", options.Accelerator == QemuAccelerator.Kvm ? "kvm" : "tcg",
            "-nodefaults",
            "-m", options.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            "-display", "none",
            "-nic", "none",
            // A comma ends a QemuOpts value; doubling it keeps a path with commas in one piece.
            "-serial", "file:" + serialPath.Replace(",", ",,", StringComparison.Ordinal),
            "-no-reboot",
            "-device", $"isa-debug-exit,iobase=0x{PcLayout.IsaDebugExitPort:x},iosize={PcLayout.IsaDebugExitSize}",
        };
        args.AddRange(options.Board.QemuArguments());
        // guest_errors: QEMU's memory core logs each access it refuses (no region, or a size or alignment the region
        // rejects) with its address and size, the only trace such an exit leaves besides kvm_run_exit.
        args.AddRange(["-bios", biosPath, "-D", tracePath, "-d", "guest_errors", "-msg", "timestamp=on"]);
        foreach (var e in TraceEvents) args.AddRange(["-trace", e]);
        return args;
    }

    /// <summary>Runs <paramref name="bios"/> to its end or the deadline; see <see cref="RunAsync"/>.</summary>
    public QemuRunResult Run(byte[] bios, QemuRunOptions? options = null) => RunAsync(bios, options).GetAwaiter().GetResult();

    /// <summary>
    /// Runs <paramref name="bios"/> as QEMU's firmware until QEMU exits (isa-debug-exit, shutdown with
    /// <c>-no-reboot</c>, error) or <see cref="QemuRunOptions.Timeout"/> passes (then QEMU is killed and
    /// <see cref="QemuRunResult.TimedOut"/> is set). Cancelling <paramref name="cancellationToken"/> kills QEMU and throws.
    /// </summary>
    /// <exception cref="ArgumentException">The image is empty or not a multiple of 64 KiB (QEMU refuses such firmware).</exception>
    public async Task<QemuRunResult> RunAsync(byte[] bios, QemuRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bios);
        if (bios.Length == 0 || bios.Length % BiosGranule != 0)
            throw new ArgumentException($"a BIOS image must be a non-empty multiple of 64 KiB (0x10000 bytes); this one is 0x{bios.Length:x}", nameof(bios));
        options ??= new QemuRunOptions();

        var dir = Directory.CreateTempSubdirectory("kvmlab-qemu-");
        try
        {
            var biosPath = Path.Combine(dir.FullName, "bios.bin");
            var serialPath = Path.Combine(dir.FullName, "serial.out");
            var tracePath = Path.Combine(dir.FullName, "trace.log");
            await File.WriteAllBytesAsync(biosPath, bios, cancellationToken).ConfigureAwait(false);
            var args = BuildArguments(biosPath, serialPath, tracePath, options);
            var (exitCode, timedOut, stderr, elapsed) = await StartAndWaitAsync(args, options.Timeout, cancellationToken).ConfigureAwait(false);

            var serial = File.Exists(serialPath) ? await File.ReadAllBytesAsync(serialPath, CancellationToken.None).ConfigureAwait(false) : [];
            var raw = File.Exists(tracePath) ? await File.ReadAllTextAsync(tracePath, CancellationToken.None).ConfigureAwait(false) : "";
            var trace = QemuTraceParser.Parse(raw, "qemu");
            var debugExit = timedOut ? null : DebugExitValueOf(trace.Trace, exitCode);
            return new QemuRunResult(args, options.Accelerator, exitCode, timedOut, debugExit, serial, raw, trace, stderr, elapsed);
        }
        finally
        {
            if (!options.KeepFiles) dir.Delete(recursive: true);
        }
    }

    private async Task<(int ExitCode, bool TimedOut, string Stderr, TimeSpan Elapsed)> StartAndWaitAsync(
        IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(QemuPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {QemuPath}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stderr = ReadStandardErrorAsync(process.StandardError, deadline);
        deadline.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            timedOut = !(await stderr.ConfigureAwait(false)).Contains(KvmInternalError, StringComparison.Ordinal);
        }
        clock.Stop();
        await stdout.ConfigureAwait(false);
        var err = await stderr.ConfigureAwait(false);
        return (process.ExitCode, timedOut, err, clock.Elapsed);
    }

    /// <summary>What QEMU prints when KVM_RUN returns KVM_EXIT_INTERNAL_ERROR; it then pauses the VM instead of exiting.</summary>
    public const string KvmInternalError = "KVM internal error";

    // Collects stderr; on a KVM internal error QEMU would sit paused until the deadline, so end the wait at once.
    private static async Task<string> ReadStandardErrorAsync(StreamReader reader, CancellationTokenSource stop)
    {
        var text = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
        {
            text.AppendLine(line);
            if (line.Contains(KvmInternalError, StringComparison.Ordinal)) await stop.CancelAsync().ConfigureAwait(false);
        }
        return text.ToString();
    }

    private static int? DebugExitValueOf(ExitTrace trace, int exitCode)
    {
        for (var i = trace.Count - 1; i >= 0; i--)
        {
            var r = trace[i];
            if (!r.Access.IsWrite() || trace.SourceOf(r)?.Region != "isa-debug-exit") continue;
            // The process status keeps only 8 bits of (value << 1) | 1.
            var value = (int)(r.Value & 0xFF);
            return (((value << 1) | 1) & 0xFF) == exitCode ? value : null;
        }
        return null;
    }

    private static IEnumerable<string> SearchDirectories()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/bin", "/usr/local/bin"]).Distinct();
    }
}
