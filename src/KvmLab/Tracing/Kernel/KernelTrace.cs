using System.Globalization;
using System.Text.RegularExpressions;

namespace KvmLab.Tracing.Kernel;

/// <summary>
/// Captures KVM's tracepoints (tracefs <c>events/kvm/</c>) for this process while a machine runs: every exit the kernel
/// took (<c>kvm_exit</c>, with the hardware's reason), what it did with it (<c>kvm_pio</c>, <c>kvm_mmio</c>,
/// <c>kvm_fast_mmio</c>, <c>kvm_emulate_insn</c>, <c>kvm_page_fault</c>, <c>kvm_msi_set_irq</c>, <c>kvm_set_irq</c>), and
/// whether KVM_RUN then returned to user space (<c>kvm_userspace_exit</c>) or the guest was entered again
/// (<c>kvm_entry</c>). <see cref="KernelExits.Of"/> turns the events into one record per kernel exit.
/// </summary>
/// <remarks>
/// <para>Needs root (tracefs is root's) and a mounted tracefs; <see cref="Start"/> says which is missing and how to fix it.
/// The capture uses a tracefs instance of its own (<c>instances/kvmlab-PID-N</c>), so the global trace buffer and other
/// tracers are left alone; the instance is removed by <see cref="Stop"/> or <see cref="Dispose"/>. Events are filtered to
/// this process's threads and the threads they create (<c>set_event_pid</c>, <c>options/event-fork</c>), and stamped with
/// CLOCK_MONOTONIC (<c>trace_clock</c> mono), the clock of <see cref="System.Diagnostics.Stopwatch"/> and of KvmLab's
/// trace, so both can be merged on one timeline.</para>
/// </remarks>
public sealed partial class KernelTrace : IDisposable
{
    /// <summary>The events enabled when the kernel has them.</summary>
    public static readonly IReadOnlyList<string> DefaultEvents =
        ["kvm_exit", "kvm_entry", "kvm_pio", "kvm_mmio", "kvm_fast_mmio", "kvm_emulate_insn", "kvm_page_fault",
         "kvm_userspace_exit", "kvm_msi_set_irq", "kvm_set_irq"];

    private static int _instances;
    private readonly string _instance;
    private bool _stopped;

    private KernelTrace(string tracefs, string instance, IReadOnlyList<string> events)
    {
        Tracefs = tracefs;
        _instance = instance;
        Events = events;
    }

    /// <summary>The tracefs mount used.</summary>
    public string Tracefs { get; }

    /// <summary>The events enabled (those of <see cref="DefaultEvents"/> this kernel has).</summary>
    public IReadOnlyList<string> Events { get; }

    /// <summary>Events the buffer had no room for (the kernel's own count), after <see cref="Stop"/>.</summary>
    public long Lost { get; private set; }

    /// <summary>The first tracefs mount in /proc/mounts, or null when none is mounted.</summary>
    public static string? FindTracefs()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/mounts"))
            {
                var f = line.Split(' ');
                if (f.Length > 2 && f[2] == "tracefs") return f[1].Replace("\\040", " ", StringComparison.Ordinal);
            }
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>Starts a capture of this process's KVM events.</summary>
    /// <param name="tracefs">A tracefs mount; default: the first in /proc/mounts.</param>
    /// <param name="bufferKilobytes">Per-CPU buffer of the instance.</param>
    /// <exception cref="KernelTraceUnavailableException">Not root, tracefs not mounted, or no KVM tracepoints; the message
    /// says which and how to fix it.</exception>
    public static KernelTrace Start(string? tracefs = null, int bufferKilobytes = 8192)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new KernelTraceUnavailableException(
                "Tracing KVM's tracepoints needs root: tracefs belongs to root. Run the notebook, script or kvmlab as root " +
                "(sudo), or use machine.KernelStats, KVM's counters, which need no root.");
        tracefs ??= FindTracefs() ?? throw new KernelTraceUnavailableException(
            "tracefs is not mounted, so KVM's tracepoints cannot be read. Mount it: sudo mount -t tracefs nodev /sys/kernel/tracing");
        if (!Directory.Exists(Path.Combine(tracefs, "events", "kvm")))
            throw new KernelTraceUnavailableException(
                $"{tracefs} has no events/kvm: this kernel was built without KVM's tracepoints (or KVM is not loaded: modprobe kvm).");
        if (!Directory.Exists(Path.Combine(tracefs, "instances")))
            throw new KernelTraceUnavailableException($"{tracefs} has no instances directory: this kernel's tracefs is too old for a private buffer.");

        var instance = Path.Combine(tracefs, "instances", $"kvmlab-{Environment.ProcessId}-{Interlocked.Increment(ref _instances)}");
        Directory.CreateDirectory(instance);
        try
        {
            Write(instance, "tracing_on", "0");
            Write(instance, "trace_clock", "mono");
            Write(instance, "buffer_size_kb", bufferKilobytes.ToString(CultureInfo.InvariantCulture));
            Write(instance, "trace", "");
            var threads = Directory.GetDirectories("/proc/self/task").Select(Path.GetFileName).ToList();
            Write(instance, "set_event_pid", string.Join(' ', threads));
            if (File.Exists(Path.Combine(instance, "options", "event-fork")))
                Write(Path.Combine(instance, "options"), "event-fork", "1");
            var enabled = new List<string>();
            foreach (var e in DefaultEvents)
            {
                var enable = Path.Combine(instance, "events", "kvm", e, "enable");
                if (!File.Exists(enable)) continue;
                File.WriteAllText(enable, "1");
                enabled.Add(e);
            }
            Write(instance, "tracing_on", "1");
            return new KernelTrace(tracefs, instance, enabled);
        }
        catch
        {
            Remove(instance);
            throw;
        }
    }

    /// <summary>Stops the capture, reads every event it holds and removes the instance.</summary>
    public IReadOnlyList<KernelTraceEvent> Stop()
    {
        ObjectDisposedException.ThrowIf(_stopped, this);
        try
        {
            Write(_instance, "tracing_on", "0");
            var events = new List<KernelTraceEvent>();
            foreach (var line in File.ReadLines(Path.Combine(_instance, "trace")))
            {
                if (line.StartsWith('#'))
                {
                    if (EntriesPattern().Match(line) is { Success: true } m)
                        Lost = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) - long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                    continue;
                }
                if (Parse(line) is { } e) events.Add(e);
            }
            events.Sort((a, b) => a.TimestampNanos.CompareTo(b.TimestampNanos));
            return events;
        }
        finally
        {
            _stopped = true;
            Remove(_instance);
        }
    }

    /// <summary>One line of a tracefs <c>trace</c> file, or null when it is not an event line.</summary>
    public static KernelTraceEvent? Parse(string line)
    {
        var m = LinePattern().Match(line);
        if (!m.Success) return null;
        var seconds = m.Groups["ts"].Value;
        var dot = seconds.IndexOf('.', StringComparison.Ordinal);
        var whole = long.Parse(seconds.AsSpan(0, dot), CultureInfo.InvariantCulture);
        var fraction = seconds.AsSpan(dot + 1);
        var nanos = long.Parse(fraction, CultureInfo.InvariantCulture);
        for (var i = fraction.Length; i < 9; i++) nanos *= 10;
        return new KernelTraceEvent(whole * 1_000_000_000 + nanos, int.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture), m.Groups["event"].Value, m.Groups["text"].Value.TrimEnd());
    }

    /// <summary>Removes the instance if <see cref="Stop"/> did not.</summary>
    public void Dispose()
    {
        if (_stopped) return;
        _stopped = true;
        Remove(_instance);
    }

    private static void Write(string dir, string file, string value) => File.WriteAllText(Path.Combine(dir, file), value);

    private static void Remove(string instance)
    {
        try
        {
            if (Directory.Exists(instance))
            {
                foreach (var enable in Directory.GetFiles(Path.Combine(instance, "events"), "enable", SearchOption.TopDirectoryOnly))
                    File.WriteAllText(enable, "0");
                Directory.Delete(instance); // tracefs removes an instance with rmdir, contents and all
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    [GeneratedRegex(@"^\s*(?<comm>.*?)-(?<pid>\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(?<cpu>\d+)\]\s+(?:[^\s:]+\s+)?(?<ts>\d+\.\d+):\s+(?<event>\w+):\s?(?<text>.*)$")]
    private static partial Regex LinePattern();

    [GeneratedRegex(@"entries-in-buffer/entries-written:\s*(\d+)/(\d+)")]
    private static partial Regex EntriesPattern();
}

/// <summary>KVM's tracepoints cannot be read here; the message says why and what fixes it.</summary>
public sealed class KernelTraceUnavailableException(string message) : InvalidOperationException(message);
