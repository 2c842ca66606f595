namespace KvmLab.Tracing.Kernel;

/// <summary>
/// What a kernel capture says beside a KvmLab trace of the same run: per port or address, how many accesses KVM saw and
/// how many reached user space; and one timeline of both.
/// </summary>
public static class KernelTraceAnalysis
{
    /// <summary>
    /// Per port (<c>kvm_pio</c>) and guest-physical address (<c>kvm_mmio</c>, <c>kvm_fast_mmio</c>): the accesses the
    /// kernel traced, the ones that reached KvmLab as exits (its trace, coalesced replays left out: those the kernel
    /// queued), and the difference, which KVM finished inside (an in-kernel device, an ioeventfd, the coalesced ring).
    /// Works on every backend: it needs only the access events, not <c>kvm_exit</c> (kvm_pvm emulates port I/O without one).
    /// </summary>
    /// <remarks>An MMIO read that goes to user space is traced twice, as <c>unsatisfied-read</c> on the way out and as
    /// <c>read</c> with its value when the next KVM_RUN completes it; the first is not counted. A port read is traced
    /// once, at completion.</remarks>
    public static IReadOnlyList<KernelAccessCount> AccessesByTarget(IEnumerable<KernelTraceEvent> events, ExitTrace trace)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(trace);
        var kernel = new Dictionary<(bool Pio, ulong Address), int>();
        foreach (var e in events)
        {
            if (e.Name is not ("kvm_pio" or "kvm_mmio" or "kvm_fast_mmio") || e.Address is not { } address) continue;
            if (e.Name == "kvm_mmio" && e.Text.StartsWith("mmio unsatisfied-read", StringComparison.Ordinal)) continue;
            var key = (e.Name == "kvm_pio", address);
            kernel[key] = kernel.GetValueOrDefault(key) + 1;
        }
        var user = new Dictionary<(bool Pio, ulong Address), int>();
        for (var i = 0; i < trace.Count; i++)
        {
            var r = trace[i];
            if (r.Access == TraceAccess.None || r.Flags.HasFlag(ExitFlags.Coalesced)) continue;
            var key = (r.Access.IsPio(), r.Address);
            user[key] = user.GetValueOrDefault(key) + 1;
        }
        return kernel.Keys.Union(user.Keys)
            .Select(k => new KernelAccessCount(k.Pio, k.Address, kernel.GetValueOrDefault(k), user.GetValueOrDefault(k)))
            .OrderBy(c => c.IsPio ? 0 : 1).ThenBy(c => c.Address)
            .ToList();
    }

    /// <summary>
    /// The kernel's events and KvmLab's exits of the same run on one clock (CLOCK_MONOTONIC), in time order. Each KvmLab
    /// record is placed when KVM_RUN returned to it (<see cref="Machine.TraceEpochNanos"/> + its timestamp).
    /// </summary>
    public static IReadOnlyList<TimelineEntry> Timeline(IEnumerable<KernelTraceEvent> events, Machine machine)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(machine);
        var rows = events.Select(e => new TimelineEntry(e.TimestampNanos, "kernel", $"{e.Name}: {e.Text}")).ToList();
        var epoch = machine.TraceEpochNanos;
        for (var i = 0; i < machine.Trace.Count; i++)
            rows.Add(new TimelineEntry(epoch + machine.Trace[i].TimestampNanos, "KvmLab", machine.Trace.Resolve(i).ToString()));
        rows.Sort((a, b) => a.TimestampNanos != b.TimestampNanos ? a.TimestampNanos.CompareTo(b.TimestampNanos)
            : string.CompareOrdinal(b.Side, a.Side)); // at a tie the kernel's event came first
        return rows;
    }
}

/// <summary>Accesses to one port or address: traced by the kernel, seen by KvmLab, finished inside the kernel.</summary>
/// <param name="IsPio">A port (true) or a guest-physical address.</param>
/// <param name="Address">The port or address.</param>
/// <param name="Kernel">Accesses KVM traced.</param>
/// <param name="UserSpace">Exits KvmLab handled for it.</param>
public sealed record KernelAccessCount(bool IsPio, ulong Address, int Kernel, int UserSpace)
{
    /// <summary>Accesses KVM finished without returning to user space.</summary>
    public int Inside => Math.Max(0, Kernel - UserSpace);

    /// <inheritdoc/>
    public override string ToString() => $"{(IsPio ? "port" : "mmio")} 0x{Address:x}: kernel {Kernel}, to KvmLab {UserSpace}, inside {Inside}";
}

/// <summary>One row of a merged timeline.</summary>
/// <param name="TimestampNanos">CLOCK_MONOTONIC, nanoseconds.</param>
/// <param name="Side">"kernel" or "KvmLab".</param>
/// <param name="What">The event or exit.</param>
public sealed record TimelineEntry(long TimestampNanos, string Side, string What);
