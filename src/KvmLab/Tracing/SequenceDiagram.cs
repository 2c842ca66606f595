using System.Globalization;
using System.Text;
using KvmLab.Kvm;
using KvmLab.Tracing.Kernel;

using KvmLab.Notebooks;

namespace KvmLab.Tracing;

/// <summary>
/// A Mermaid <c>sequenceDiagram</c> of a slice of a trace: for each exit the guest's access, KVM's return from
/// KVM_RUN with its exit reason, KvmLab's run loop dispatching it to an address space (QEMU's
/// <c>address_space_rw</c> from <c>kvm_cpu_exec</c>), the device and register that served it, the value, and the way
/// back. Markdown renderers of forges and documentation sites draw it; <see cref="ToMarkdown"/> gives the fenced block.
/// Make one with <see cref="SequenceDiagramExtensions.ToMermaid"/>.
/// </summary>
[TypeFormatterSource(TypeFormatterSourceAttribute.KvmLabSource)]
public sealed class SequenceDiagram
{
    private SequenceDiagram(string text, TraceSlice slice)
    {
        Text = text;
        Slice = slice;
    }

    /// <summary>The diagram's Mermaid source, starting with <c>sequenceDiagram</c>.</summary>
    public string Text { get; }

    /// <summary>The records drawn.</summary>
    public TraceSlice Slice { get; }

    /// <summary>The diagram as a fenced <c>mermaid</c> code block, for a Markdown file or cell.</summary>
    public string ToMarkdown() => "```mermaid\n" + Text + "```\n";

    /// <summary>Writes <see cref="ToMarkdown"/> for a .md path, the bare Mermaid source otherwise (.mmd).</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllText(path, path.EndsWith(".md", StringComparison.OrdinalIgnoreCase) ? ToMarkdown() : Text);
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    internal static SequenceDiagram Of(TraceSlice slice, SequenceDiagramOptions options)
    {
        var w = new Writer(slice, options);
        return new SequenceDiagram(w.Build(), slice);
    }

    private sealed class Writer(TraceSlice slice, SequenceDiagramOptions options)
    {
        private readonly StringBuilder _body = new();
        private readonly Dictionary<string, string> _devices = new(StringComparer.Ordinal);
        private bool _io, _memory;

        public string Build()
        {
            var kernel = options.KernelEvents;
            for (var i = 0; i < slice.Count; i++)
            {
                var x = slice[i];
                if (kernel is not null) KernelSide(kernel, x.Sequence);
                Record(x);
            }
            var head = new StringBuilder("sequenceDiagram\n");
            head.Append(CultureInfo.InvariantCulture, $"    %% {Escape(slice.ToString())}\n");
            head.Append("    participant G as guest vCPU\n");
            head.Append(kernel is null ? "    participant K as KVM\n" : "    participant K as KVM (kernel, tracepoints)\n");
            head.Append("    participant R as KvmLab run loop\n");
            if (_io) head.Append("    participant IO as io address space\n");
            if (_memory) head.Append("    participant MEM as memory address space\n");
            foreach (var (name, id) in _devices) head.Append(CultureInfo.InvariantCulture, $"    participant {id} as {Escape(name)}\n");
            return head.Append(_body).ToString();
        }

        private void Record(ResolvedExit x)
        {
            var r = x.Record;
            var reason = "KVM_EXIT_" + x.ReasonName;
            if (r.Access == TraceAccess.None)
            {
                if (r.Flags.HasFlag(ExitFlags.Observed))
                {
                    Line($"Note over G,R: #{x.Sequence} {x.ReasonName} seen by KvmLab (KVM_GET_MP_STATE), not a return from KVM_RUN");
                    return;
                }
                Line($"G->>K: #{x.Sequence} {x.ReasonName} at rip {Hex(r.Rip, 0)}");
                Line($"K->>R: KVM_RUN returns {reason}");
                if (r.Reason is not (ExitReason.Shutdown or ExitReason.FailEntry or ExitReason.InternalError))
                    Line("R->>G: KVM_RUN: the guest continues");
                return;
            }
            if (r.Flags.HasFlag(ExitFlags.Observed) && x.Region == TraceRecorder.MsiRegion)
            {
                // The run loop records each MSI a device sends as a write of the message data to the message address.
                var d = Device(x.Device ?? "device");
                Line($"{d}->>K: #{x.Sequence} MSI: KVM_SIGNAL_MSI address {Hex(r.Address, 8)} data {Hex(r.Value, 4)}");
                Line($"K->>G: vector {Hex(r.Value & 0xFF, 2)} raised by the in-kernel local APIC");
                return;
            }
            var pio = r.Access.IsPio();
            var write = r.Access.IsWrite();
            var space = pio ? "IO" : "MEM";
            if (pio) _io = true; else _memory = true;
            var where = pio ? $"port {Hex(r.Address, 0)}" : Hex(r.Address, 8);
            var value = Hex(r.Value, r.Size * 2);
            var enteredKernel = false;
            if (r.Flags.HasFlag(ExitFlags.Coalesced))
            {
                Line($"Note over K,R: #{x.Sequence} replayed from the coalesced MMIO ring: the store cost no exit of its own");
            }
            else if (r.Flags.HasFlag(ExitFlags.Continuation))
            {
                Line($"Note over K,R: #{x.Sequence} next element of the same string I/O exit (kvm_run io.count)");
            }
            else
            {
                var instruction = pio ? (write ? "OUT" : "IN") : (write ? "store" : "load");
                Line($"G->>K: #{x.Sequence} {instruction} {r.Size} byte{(r.Size == 1 ? "" : "s")} {(write ? "to" : "from")} {where}{(write ? " = " + value : "")} (rip {Hex(r.Rip, 0)})");
                Line(pio
                    ? $"K->>R: KVM_RUN returns {reason}: io.direction {(write ? "OUT" : "IN")}, port {Hex(r.Address, 0)}, size {r.Size}, data at io.data_offset"
                    : $"K->>R: KVM_RUN returns {reason}: mmio.phys_addr {Hex(r.Address, 8)}, len {r.Size}, is_write {(write ? 1 : 0)}, data inline");
                enteredKernel = true;
            }
            Line($"R->>{space}: {(write ? "write" : "read")} {where}, {r.Size} byte{(r.Size == 1 ? "" : "s")}{(write ? " = " + value : "")}");
            if (x.Device is null)
            {
                Line(r.Flags.HasFlag(ExitFlags.Rejected)
                    ? $"Note over {space}: {x.Region ?? "the region"} rejects a {r.Size}-byte access (its valid sizes): the device never sees it"
                    : $"Note over {space}: no region claims {where}: {(write ? "the write is dropped" : "the read returns " + value)}");
                if (!write) Line($"{space}-->>R: {value}");
            }
            else
            {
                var d = Device(x.Device);
                var register = x.Register ?? (x.Region is null ? "(no named register)" : $"{x.Region} (no named register)");
                Line($"{space}->>{d}: {(write ? "write" : "read")} {register}{(write ? " = " + value : "")}");
                if (!write)
                {
                    Line($"{d}-->>{space}: {value}");
                    Line($"{space}-->>R: {value}");
                }
            }
            if (r.Flags.HasFlag(ExitFlags.EndsRun))
            {
                Line($"Note over R: the write ends the run (status {Hex((r.Value << 1) | 1, 0)})");
                return;
            }
            if (!enteredKernel) return;
            Line(write
                ? $"R->>K: KVM_RUN"
                : $"R->>K: KVM_RUN with {value} in kvm_run ({(pio ? "at io.data_offset" : "mmio.data")})");
            Line(write
                ? $"K-->>G: the {(pio ? "OUT" : "store")} is complete, the guest continues"
                : $"K-->>G: the {(pio ? "IN" : "load")} completes with {value}");
        }

        // The kernel's events between the previous record and this one: exits KVM finished itself, then the exit that
        // returned this record (both on CLOCK_MONOTONIC once the record's time is moved by the trace's epoch).
        private void KernelSide(IReadOnlyList<KernelTraceEvent> events, int sequence)
        {
            var trace = slice.Trace;
            var to = options.TraceEpochNanos + trace[sequence].TimestampNanos;
            var from = sequence == 0 ? long.MinValue : options.TraceEpochNanos + trace[sequence - 1].TimestampNanos;
            var window = events.Where(e => e.TimestampNanos > from && e.TimestampNanos <= to).ToList();
            var exits = KernelExits.Of(window);
            // kvm_pvm emulates these accesses without a kvm_exit: then the kernel's side is what it did trace.
            if (exits.Count == 0 && window.Count > 0)
                Line("Note over G,K: kernel, no kvm_exit traced: " + string.Join(", ", window.Where(e => e.Name != "kvm_entry").Take(6)
                    .Select(e => e.Name is "kvm_pio" or "kvm_mmio" or "kvm_userspace_exit" ? $"{e.Name}: {e.Text}" : e.Name)));
            foreach (var exit in exits)
            {
                var access = exit.Access is { } a ? $", {a.Name}: {a.Text}" : "";
                if (exit.ReachedUserSpace)
                    Line($"Note over G,K: kernel: kvm_exit reason {exit.Reason}{access}, then kvm_userspace_exit");
                else
                {
                    Line($"G->>K: kvm_exit reason {exit.Reason}{access}");
                    Line("K-->>G: finished inside the kernel, no return to KvmLab");
                }
            }
        }

        private string Device(string name)
        {
            if (!_devices.TryGetValue(name, out var id)) _devices[name] = id = "D" + _devices.Count.ToString(CultureInfo.InvariantCulture);
            return id;
        }

        private void Line(string text) => _body.Append("    ").Append(Escape(text)).Append('\n');
    }

    private static string Hex(ulong value, int digits) => "0x" + value.ToString(digits > 0 ? "x" + digits.ToString(CultureInfo.InvariantCulture) : "x", CultureInfo.InvariantCulture);

    // Mermaid reads '#' as the start of an entity code and ';' as the end of a statement: both become entity codes.
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text) sb.Append(c switch { '#' => "#35;", ';' => "#59;", _ => c.ToString() });
        return sb.ToString();
    }
}

/// <summary>Mermaid sequence diagrams of traces.</summary>
public static class SequenceDiagramExtensions
{
    /// <summary>The slice as a Mermaid <c>sequenceDiagram</c> (see <see cref="SequenceDiagram"/>).</summary>
    public static SequenceDiagram ToMermaid(this TraceSlice slice, SequenceDiagramOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(slice.Trace);
        return SequenceDiagram.Of(slice, options ?? new SequenceDiagramOptions());
    }
}
