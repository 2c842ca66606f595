using System.Text.Json;

namespace KvmLab.Tracing.Kernel;

/// <summary>
/// Both halves of one run in a trace viewer: a kernel capture and KvmLab's trace written as one Chrome trace-event
/// JSON file, which Perfetto (ui.perfetto.dev) and chrome://tracing open. Process 1, "KVM (kernel)", has a track per
/// vCPU thread: each exit the kernel took is a slice from its <c>kvm_exit</c> to the <c>kvm_entry</c> or
/// <c>kvm_userspace_exit</c> that ended it, named by the hardware's reason, and the events in between (kvm_pio,
/// kvm_mmio, kvm_emulate_insn, ...) are instants on it. Process 2, "KvmLab (user space)", has KvmLab's exit records as
/// slices lasting their handler time. A flow arrow joins each kernel exit that returned to user space to the record
/// KvmLab made of it. Times are microseconds from the first event of either side, on CLOCK_MONOTONIC.
/// </summary>
internal static class KernelTracePerfetto
{
    /// <summary>Process id of the kernel's tracks in the written file.</summary>
    public const int KernelProcess = 1;

    /// <summary>Process id of KvmLab's track in the written file.</summary>
    public const int UserSpaceProcess = 2;

    /// <summary>Writes <paramref name="events"/> and <paramref name="machine"/>'s trace to <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyList<KernelTraceEvent> events, Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(stream, events, machine.Trace, machine.TraceEpochNanos);
    }

    /// <summary>
    /// Writes the file to <paramref name="stream"/>. <paramref name="traceEpochNanos"/> is the CLOCK_MONOTONIC time of
    /// the trace's zero (<see cref="Machine.TraceEpochNanos"/>), which puts KvmLab's records on the kernel's clock.
    /// </summary>
    public static void Write(Stream stream, IReadOnlyList<KernelTraceEvent> events, ExitTrace trace, long traceEpochNanos)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(trace);
        var ordered = events.OrderBy(e => e.TimestampNanos).ToList();
        var exits = KernelExits.Of(ordered);
        var origin = Math.Min(ordered.Count > 0 ? ordered[0].TimestampNanos : long.MaxValue,
            trace.Count > 0 ? traceEpochNanos + trace[0].TimestampNanos : long.MaxValue);
        if (origin == long.MaxValue) origin = 0;
        double Us(long monotonicNanos) => (monotonicNanos - origin) / 1000.0;

        using var w = new Utf8JsonWriter(stream);
        w.WriteStartObject();
        w.WriteString("displayTimeUnit", "ns");
        w.WriteStartArray("traceEvents");
        Metadata(w, "process_name", KernelProcess, 0, "KVM (kernel)");
        Metadata(w, "process_name", UserSpaceProcess, 0, "KvmLab (user space)");
        Metadata(w, "thread_name", UserSpaceProcess, 1, $"vCPU 0: {trace.Name}");
        foreach (var thread in ordered.Select(e => e.Thread).Distinct())
            Metadata(w, "thread_name", KernelProcess, thread, $"thread {thread} in the kernel");

        // Where each exit ended: the kvm_userspace_exit that returned, else the next kvm_entry on its thread.
        var entries = ordered.Where(e => e.Name == "kvm_entry").GroupBy(e => e.Thread)
            .ToDictionary(g => g.Key, g => g.Select(e => e.TimestampNanos).ToArray());
        var flows = new List<(long KernelNanos, int Thread)>();
        foreach (var x in exits)
        {
            var start = x.Exit.TimestampNanos;
            var end = x.UserspaceExit?.TimestampNanos ?? NextAfter(entries, x.Exit.Thread, start) ?? x.Handling.LastOrDefault()?.TimestampNanos ?? start;
            w.WriteStartObject();
            w.WriteString("name", x.Reason);
            w.WriteString("cat", x.ReachedUserSpace ? "to user space" : "in the kernel");
            w.WriteString("ph", "X");
            w.WriteNumber("ts", Us(start));
            w.WriteNumber("dur", Math.Max(end - start, 1) / 1000.0);
            w.WriteNumber("pid", KernelProcess);
            w.WriteNumber("tid", x.Exit.Thread);
            w.WriteStartObject("args");
            w.WriteString("path", x.ToString());
            w.WriteBoolean("reached_user_space", x.ReachedUserSpace);
            w.WriteString("kvm_exit", x.Exit.Text);
            w.WriteEndObject();
            w.WriteEndObject();
            if (x.ReachedUserSpace) flows.Add((x.UserspaceExit!.TimestampNanos, x.Exit.Thread));
        }
        foreach (var e in ordered.Where(e => e.Name is not ("kvm_exit" or "kvm_entry")))
        {
            w.WriteStartObject();
            w.WriteString("name", e.Name);
            w.WriteString("cat", "kvm");
            w.WriteString("ph", "i");
            w.WriteString("s", "t");
            w.WriteNumber("ts", Us(e.TimestampNanos));
            w.WriteNumber("pid", KernelProcess);
            w.WriteNumber("tid", e.Thread);
            w.WriteStartObject("args");
            w.WriteString("text", e.Text);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        // KvmLab's records; each exit record ends the newest not yet matched flow that left the kernel before it.
        var flowIndex = 0;
        var flowId = 0;
        for (var i = 0; i < trace.Count; i++)
        {
            var r = trace[i];
            var at = traceEpochNanos + r.TimestampNanos;
            w.WriteStartObject();
            w.WriteString("name", TraceExport.SliceName(trace, r));
            w.WriteString("cat", TraceExport.SliceCategory(r));
            w.WriteString("ph", "X");
            w.WriteNumber("ts", Us(at));
            w.WriteNumber("dur", Math.Max(r.HandlerNanos, 1) / 1000.0);
            w.WriteNumber("pid", UserSpaceProcess);
            w.WriteNumber("tid", 1);
            w.WriteStartObject("args");
            w.WriteString("exit", trace.Resolve(i).ToString());
            w.WriteEndObject();
            w.WriteEndObject();
            if (w.BytesPending > 1 << 16) w.Flush();
            if (!r.IsExit) continue;
            // Flows that left the kernel before this record and were not matched belong to records KvmLab never made
            // (the capture started mid-run): skip all but the newest.
            while (flowIndex + 1 < flows.Count && flows[flowIndex + 1].KernelNanos <= at) flowIndex++;
            if (flowIndex < flows.Count && flows[flowIndex].KernelNanos <= at)
            {
                Flow(w, "s", ++flowId, KernelProcess, flows[flowIndex].Thread, Us(flows[flowIndex].KernelNanos));
                Flow(w, "f", flowId, UserSpaceProcess, 1, Us(at));
                flowIndex++;
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static long? NextAfter(Dictionary<int, long[]> entries, int thread, long after)
    {
        if (!entries.TryGetValue(thread, out var times)) return null;
        var i = Array.BinarySearch(times, after + 1);
        if (i < 0) i = ~i;
        return i < times.Length ? times[i] : null;
    }

    private static void Metadata(Utf8JsonWriter w, string kind, int pid, int tid, string name)
    {
        w.WriteStartObject();
        w.WriteString("name", kind);
        w.WriteString("ph", "M");
        w.WriteNumber("pid", pid);
        w.WriteNumber("tid", tid);
        w.WriteStartObject("args");
        w.WriteString("name", name);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Flow(Utf8JsonWriter w, string phase, int id, int pid, int tid, double ts)
    {
        w.WriteStartObject();
        w.WriteString("name", "KVM_RUN returns");
        w.WriteString("cat", "exit");
        w.WriteString("ph", phase);
        if (phase == "f") w.WriteString("bp", "e");
        w.WriteNumber("id", id);
        w.WriteNumber("ts", ts);
        w.WriteNumber("pid", pid);
        w.WriteNumber("tid", tid);
        w.WriteEndObject();
    }
}
