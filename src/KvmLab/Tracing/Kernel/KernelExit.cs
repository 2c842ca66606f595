namespace KvmLab.Tracing.Kernel;

/// <summary>
/// One exit the kernel took, from its <c>kvm_exit</c> to the next <c>kvm_entry</c> or <c>kvm_userspace_exit</c> on the
/// same thread: the hardware's reason, what KVM did about it, and whether KVM_RUN returned to user space for it.
/// </summary>
/// <param name="Exit">The kvm_exit event.</param>
/// <param name="Handling">The events in between: kvm_pio, kvm_page_fault, kvm_emulate_insn, kvm_mmio, kvm_fast_mmio, ...</param>
/// <param name="UserspaceExit">The kvm_userspace_exit that followed, or null when the guest was entered again. Its reason
/// is a KVM_EXIT_* for an exit user space must handle, or "restart" when a pending signal ended KVM_RUN after KVM had
/// finished the exit itself.</param>
public sealed record KernelExit(KernelTraceEvent Exit, IReadOnlyList<KernelTraceEvent> Handling, KernelTraceEvent? UserspaceExit)
{
    /// <summary>The hardware exit reason as the kernel names it (e.g. <c>io</c>, <c>npf</c>, <c>EPT_VIOLATION</c>).</summary>
    public string Reason => Exit.ExitReason ?? "?";

    /// <summary>True when KVM_RUN returned to user space for this exit (with a <c>KVM_EXIT_*</c> reason).</summary>
    public bool ReachedUserSpace => UserspaceExit?.UserspaceExit?.StartsWith("KVM_EXIT_", StringComparison.Ordinal) == true;

    /// <summary>True when KVM finished this exit in the kernel but KVM_RUN then returned anyway, because a signal was
    /// pending (kvm_userspace_exit "restart": -EINTR, KvmLab's INTR exit) or it failed ("error").</summary>
    public bool ReturnedForSignalOrError => UserspaceExit is not null && !ReachedUserSpace;

    /// <summary>The port access or MMIO access it carried, if any.</summary>
    public KernelTraceEvent? Access => Handling.FirstOrDefault(e => e.Name is "kvm_pio" or "kvm_mmio" or "kvm_fast_mmio");

    /// <summary>True when KVM's instruction emulator ran for it (kvm_emulate_insn).</summary>
    public bool Emulated => Handling.Any(e => e.Name == "kvm_emulate_insn");

    /// <summary>"npf (RSVD) -> emulated -> mmio write 0xe8000000 -> KVM_EXIT_MMIO".</summary>
    public override string ToString()
    {
        var parts = new List<string> { Reason + (Exit.NpfReservedBit is { } rsvd ? rsvd ? " (reserved bit: cached MMIO SPTE)" : " (not present)" : "") };
        if (Handling.Any(e => e.Name == "kvm_page_fault")) parts.Add("page fault");
        if (Emulated) parts.Add("emulated");
        if (Access is { } a) parts.Add(a.Name == "kvm_pio" ? $"{(a.IsWrite == true ? "out" : "in")} 0x{a.Address:x}" : $"{a.Text}");
        parts.Add(ReachedUserSpace ? UserspaceExit!.UserspaceExit! : "handled in the kernel");
        if (ReturnedForSignalOrError) parts.Add($"KVM_RUN returned anyway ({UserspaceExit!.UserspaceExit}: a signal or an error)");
        return string.Join(" -> ", parts);
    }
}

/// <summary>Groups captured events into <see cref="KernelExit"/>s and counts them.</summary>
public static class KernelExits
{
    /// <summary>The kernel exits in <paramref name="events"/>, in time order, each with what followed it on its thread.</summary>
    public static IReadOnlyList<KernelExit> Of(IEnumerable<KernelTraceEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var open = new Dictionary<int, (KernelTraceEvent Exit, List<KernelTraceEvent> Handling)>();
        var done = new List<KernelExit>();
        foreach (var e in events.OrderBy(e => e.TimestampNanos))
        {
            switch (e.Name)
            {
                case "kvm_exit":
                    if (open.Remove(e.Thread, out var previous)) done.Add(new KernelExit(previous.Exit, previous.Handling, null));
                    open[e.Thread] = (e, []);
                    break;
                case "kvm_entry":
                    if (open.Remove(e.Thread, out var entered)) done.Add(new KernelExit(entered.Exit, entered.Handling, null));
                    break;
                case "kvm_userspace_exit":
                    if (open.Remove(e.Thread, out var returned)) done.Add(new KernelExit(returned.Exit, returned.Handling, e));
                    break;
                default:
                    if (open.TryGetValue(e.Thread, out var current)) current.Handling.Add(e);
                    break;
            }
        }
        done.AddRange(open.Values.Select(o => new KernelExit(o.Exit, o.Handling, null)));
        done.Sort((a, b) => a.Exit.TimestampNanos.CompareTo(b.Exit.TimestampNanos));
        return done;
    }

    /// <summary>Per hardware exit reason: how many exits the kernel finished itself and how many reached user space.</summary>
    public static IReadOnlyList<KernelExitCount> ByReason(IEnumerable<KernelExit> exits) =>
        exits.GroupBy(e => e.Reason)
            .Select(g => new KernelExitCount(g.Key, g.Count(e => !e.ReachedUserSpace), g.Count(e => e.ReachedUserSpace)))
            .OrderByDescending(c => c.Inside + c.ToUserSpace)
            .ToList();
}

/// <summary>Kernel exits of one reason: finished inside the kernel, or returned to user space.</summary>
/// <param name="Reason">The hardware exit reason as the kernel names it.</param>
/// <param name="Inside">Exits after which the guest was entered again without KVM_RUN returning.</param>
/// <param name="ToUserSpace">Exits KVM_RUN returned to user space for.</param>
public sealed record KernelExitCount(string Reason, int Inside, int ToUserSpace);
