using System.Text.Json;
using KvmLab.Kvm;
using KvmLab.Tracing.Kernel;

namespace KvmLab.Cli;

/// <summary>The <c>--kernel-trace</c> JSON: the kernel's events and kvmlab's exits of one run, analysed and merged.</summary>
internal static class KernelTraceFile
{
    public static void Write(string path, IReadOnlyList<KernelTraceEvent> events, Machine machine)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        var exits = KernelExits.Of(events);
        w.WriteStartObject();
        w.WriteString("backend", machine.Kvm.Backend.ModuleName());
        w.WriteString("clock", "CLOCK_MONOTONIC nanoseconds (tracefs trace_clock mono)");
        w.WriteStartArray("exits_by_reason");
        foreach (var c in KernelExits.ByReason(exits))
        {
            w.WriteStartObject();
            w.WriteString("reason", c.Reason);
            w.WriteNumber("finished_in_kernel", c.Inside);
            w.WriteNumber("returned_to_user_space", c.ToUserSpace);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("accesses");
        foreach (var c in KernelTraceAnalysis.AccessesByTarget(events, machine.Trace))
        {
            w.WriteStartObject();
            w.WriteString("space", c.IsPio ? "io" : "memory");
            w.WriteString("address", $"0x{c.Address:x}");
            w.WriteNumber("kernel", c.Kernel);
            w.WriteNumber("kvmlab", c.UserSpace);
            w.WriteNumber("inside", c.Inside);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("kernel_exits");
        foreach (var x in exits)
        {
            w.WriteStartObject();
            w.WriteNumber("t_ns", x.Exit.TimestampNanos);
            w.WriteString("reason", x.Reason);
            w.WriteBoolean("reached_user_space", x.ReachedUserSpace);
            w.WriteString("path", x.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("timeline");
        foreach (var t in KernelTraceAnalysis.Timeline(events, machine))
        {
            w.WriteStartObject();
            w.WriteNumber("t_ns", t.TimestampNanos);
            w.WriteString("side", t.Side);
            w.WriteString("what", t.What);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
