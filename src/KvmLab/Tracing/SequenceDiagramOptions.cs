using KvmLab.Tracing.Kernel;

namespace KvmLab.Tracing;

/// <summary>What a <see cref="SequenceDiagram"/> shows besides the trace's records.</summary>
public sealed record SequenceDiagramOptions
{
    /// <summary>
    /// KVM's tracepoint events of the same run (<see cref="KernelTrace"/>): with them each exit shows the kernel's own
    /// exit reason, and exits the kernel finished without returning to KvmLab appear between the records.
    /// </summary>
    public IReadOnlyList<KernelTraceEvent>? KernelEvents { get; init; }

    /// <summary>
    /// The trace's zero on the kernel's clock (<see cref="Machine.TraceEpochNanos"/>), which places records among
    /// <see cref="KernelEvents"/>.
    /// </summary>
    public long TraceEpochNanos { get; init; }
}
