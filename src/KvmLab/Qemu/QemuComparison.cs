using System.Text;
using System.Text.Json;
using KvmLab.Loading;
using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// One guest run twice, on a KvmLab <see cref="Machine"/> and as QEMU's firmware with the same devices, and the two
/// traces lined up access by access (<see cref="TraceAligner"/>): the check that KvmLab's device models answer the
/// guest the way QEMU 7.2's do.
/// </summary>
public sealed class QemuComparison
{
    private QemuComparison(GuestImage image, Boards.Board board, RunResult kvmLabRun, string kvmLabSerial, ExitTrace kvmLabTrace, QemuRunResult qemu,
        TraceAlignment alignment)
    {
        Image = image;
        Board = board;
        KvmLabRun = kvmLabRun;
        KvmLabSerial = kvmLabSerial;
        KvmLabTrace = kvmLabTrace;
        Qemu = qemu;
        Alignment = alignment;
        SerialLines = SerialComparison.Compare(kvmLabSerial, qemu.SerialText, alignment, image.RandomLinePrefixes);
    }

    /// <summary>The guest that ran.</summary>
    public GuestImage Image { get; }

    /// <summary>The board both sides ran (QEMU with its machine type and devices).</summary>
    public Boards.Board Board { get; }

    /// <summary>How KvmLab's run ended.</summary>
    public RunResult KvmLabRun { get; }

    /// <summary>What the guest wrote to COM1 on KvmLab.</summary>
    public string KvmLabSerial { get; }

    /// <summary>KvmLab's trace (one record per exit).</summary>
    public ExitTrace KvmLabTrace { get; }

    /// <summary>QEMU's run: exit status, serial output, parsed trace.</summary>
    public QemuRunResult Qemu { get; }

    /// <summary>The two traces aligned over the device accesses.</summary>
    public TraceAlignment Alignment { get; }

    /// <summary>The two serial outputs compared line by line, each difference with its explanation when one is known.</summary>
    public IReadOnlyList<SerialLine> SerialLines { get; }

    /// <summary>
    /// True when both runs finished with the same isa-debug-exit value, and neither the accesses nor the serial output
    /// differ beyond the known, explained differences between the two machines (a line of QEMU's trace that could
    /// not be read is such a difference: the alignment shows it where it was).
    /// </summary>
    public bool Agrees => Alignment.Agrees && SerialLines.All(l => l.Status != SerialLineStatus.Differs)
        && KvmLabIsaDebugExitValue is { } k && k == Qemu.IsaDebugExitValue;

    /// <summary>The byte KvmLab's guest wrote to isa-debug-exit, or null when its run ended any other way.</summary>
    public int? KvmLabIsaDebugExitValue =>
        KvmLabRun.Reason == StopReason.IsaDebugExit && KvmLabRun.ExitStatus is { } s ? (int)((s >> 1) & 0xFF) : null;

    /// <summary>
    /// Runs <paramref name="image"/> under QEMU (<paramref name="qemuBios"/>: the
    /// same guest exported as QEMU firmware, e.g. by the guest library's exporter), then on a KvmLab machine, and aligns
    /// the traces.
    /// </summary>
    /// <remarks>One after the other, not side by side: each VM has the host's CPUs to itself, so neither run's timing
    /// nor its outcome depends on the other. Side by side on one emulated CPU (SVM nested under QEMU's TCG), either
    /// VMM's interrupt-driven guest (edu-irq, IRETD variant) stalled in two of three runs, once under QEMU and once under
    /// KvmLab; alone on that CPU KvmLab ran it 60 times and QEMU once without a stall.</remarks>
    /// <param name="image">The guest as KvmLab loads it.</param>
    /// <param name="qemuBios">The same guest as a 64 KiB firmware image for <c>-bios</c>.</param>
    /// <param name="options">Accelerator, machine options, deadline.</param>
    /// <exception cref="QemuNotFoundException">QEMU is not installed; the message says how to install it.</exception>
    /// <exception cref="Kvm.KvmException">/dev/kvm cannot be opened or a KVM call failed; the hint says what to do.</exception>
    public static QemuComparison Run(GuestImage image, byte[] qemuBios, QemuComparisonOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(qemuBios);
        options ??= new QemuComparisonOptions();
        var runner = new QemuRunner(options.QemuPath);
        var m = options.Machine ?? MachineOptions.For(image);
        var qemuOptions = new QemuRunOptions
        {
            Accelerator = options.Accelerator,
            Board = m.EffectiveBoard,
            MemoryMiB = (int)Math.Max(2, m.RamSize >> 20),
            Timeout = options.Timeout,
        };
        var qemu = runner.Run(qemuBios, qemuOptions);

        RunResult kvmLabRun;
        string serial;
        ExitTrace trace;
        using (var machine = Machine.Boot(image, m with { Tracing = true }))
        {
            kvmLabRun = machine.Run(new RunOptions { Timeout = options.Timeout });
            serial = machine.SerialOutput;
            trace = machine.Trace;
        }
        var alignment = TraceAligner.Align(trace, qemu.Trace.Trace, image.RandomLinePrefixes);
        return new QemuComparison(image, m.EffectiveBoard, kvmLabRun, serial, trace, qemu, alignment);
    }

    /// <summary>
    /// The serial outputs side by side, line by line: '=' the same line, 'e' a difference with its explanation, '!' an
    /// unexplained difference. Meant for a notebook cell or a terminal.
    /// </summary>
    public string DescribeSerial()
    {
        var sb = new StringBuilder();
        var width = Math.Max(6, SerialLines.Select(l => l.KvmLab?.Length ?? 0).DefaultIfEmpty().Max());
        sb.Append("  ").Append("KvmLab".PadRight(width)).AppendLine(" | QEMU");
        foreach (var l in SerialLines)
        {
            var mark = l.Status switch { SerialLineStatus.Same => '=', SerialLineStatus.Explained => 'e', _ => '!' };
            sb.Append(mark).Append(' ').Append((l.KvmLab ?? "").PadRight(width)).Append(" | ").Append(l.Qemu ?? "");
            if (l.Note.Length > 0) sb.Append("   <- ").Append(l.Note);
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>
    /// The comparison as JSON: guest, accelerator, verdict, each side's ending and serial output, the serial lines and
    /// the alignment (<see cref="TraceAlignment.ToJson"/>'s document).
    /// </summary>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("guest", Image.Name);
        w.WriteString("mode", Image.Mode.ToString());
        w.WriteString("accelerator", Qemu.Accelerator.ToString().ToLowerInvariant());
        w.WriteBoolean("agrees", Agrees);
        w.WriteStartObject("kvmlab");
        w.WriteString("stop", KvmLabRun.Reason.ToString());
        if (KvmLabIsaDebugExitValue is { } k) w.WriteString("debug_exit", $"0x{k:x2}");
        w.WriteNumber("exits", KvmLabRun.Exits);
        w.WriteString("serial", KvmLabSerial);
        w.WriteEndObject();
        w.WriteStartObject("qemu");
        w.WriteNumber("exit_code", Qemu.ExitCode);
        w.WriteBoolean("timed_out", Qemu.TimedOut);
        if (Qemu.IsaDebugExitValue is { } q) w.WriteString("debug_exit", $"0x{q:x2}");
        w.WriteNumber("exits", Qemu.Trace.KvmExits);
        w.WriteString("serial", Qemu.SerialText);
        w.WriteEndObject();
        w.WriteStartArray("serial_lines");
        foreach (var l in SerialLines)
        {
            w.WriteStartObject();
            w.WriteString("status", l.Status.ToString());
            if (l.KvmLab is null) w.WriteNull("kvmlab"); else w.WriteString("kvmlab", l.KvmLab);
            if (l.Qemu is null) w.WriteNull("qemu"); else w.WriteString("qemu", l.Qemu);
            if (l.Note.Length > 0) w.WriteString("note", l.Note);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WritePropertyName("alignment");
        Alignment.WriteJson(w);
        w.WriteEndObject();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Image.Name} ({Image.Mode}): KvmLab {KvmLabRun}; {Qemu}; {Alignment}; " + (Agrees ? "agree" : "DIVERGE");
}
