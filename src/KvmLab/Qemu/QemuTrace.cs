using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// A QEMU trace turned into KvmLab's trace model, plus the counts a reader needs to judge how complete it is.
/// </summary>
/// <remarks>
/// Addresses: QEMU 7.2's memory_region_ops_read/write events print the access's address made absolute within the
/// region's root container (memory_region_to_absolute_addr), not the offset the device callback receives: port
/// 0x3fd for serial's LSR, 0xe0000004 for edu's liveness register once BAR0 sits at 0xe0000000. That is exactly what
/// KvmLab's <see cref="ExitRecord.Address"/> holds (a port or a guest-physical address), so records are stored as
/// QEMU printed them, with no conversion; the offset is the address minus the region's base (a BAR base for PCI).
/// Values: QEMU prints the 64-bit value its ops returned (an unassigned byte read shows 0xffffffffffffffff); records
/// keep the low <see cref="ExitRecord.Size"/> bytes, the value the guest saw.
/// Not in QEMU's trace, so zero in every record: <see cref="ExitRecord.Rip"/> and the register index.
/// </remarks>
public sealed class QemuTrace
{
    internal QemuTrace(ExitTrace trace) => Trace = trace;

    /// <summary>The records, one per QEMU access or KVM exit, with sources named after QEMU's regions.</summary>
    public ExitTrace Trace { get; }

    /// <summary>Lines read (including ignored ones).</summary>
    public int Lines { get; internal set; }

    /// <summary>kvm_run_exit events seen.</summary>
    public int KvmExits { get; internal set; }

    /// <summary>memory_region_ops_read / memory_region_ops_write events seen.</summary>
    public int Accesses { get; internal set; }

    /// <summary>
    /// Accesses that no kvm_run_exit explains: everything under TCG, device activity outside a vCPU (cpu -1, e.g.
    /// an MSI write at reset), and accesses a device makes while handling another one. Their records carry
    /// <see cref="KvmLab.Kvm.ExitReason.Unknown"/> as the reason.
    /// </summary>
    public int AccessesWithoutExit { get; internal set; }

    /// <summary>
    /// IO or MMIO exits that QEMU traced no region access for: an unassigned guest-physical address, or a size the
    /// region's valid sizes rejected (QEMU's memory core drops those before any ops trace). Their records have
    /// <see cref="TraceAccess.None"/> and <see cref="ExitFlags.Unassigned"/>.
    /// </summary>
    public int ExitsWithoutAccess { get; internal set; }

    /// <summary>
    /// Accesses QEMU's memory core refused and logged (<c>-d guest_errors</c>: "Invalid read at addr ..."): no region
    /// (region '(null)', address absolute, flagged <see cref="ExitFlags.Unassigned"/>) or a size or alignment the
    /// region rejects (flagged <see cref="ExitFlags.Rejected"/>; QEMU logs the offset into the region, which is what
    /// the record's address then holds). QEMU does not log the value: it is 0 in the record.
    /// </summary>
    public int InvalidAccesses { get; internal set; }

    /// <summary>Further accesses of one IO exit (string I/O: rep ins/outs), flagged <see cref="ExitFlags.Continuation"/>.</summary>
    public int Continuations { get; internal set; }

    /// <summary>Lines that are not one of the three events (QEMU warnings, other trace events): skipped.</summary>
    public int IgnoredLines { get; internal set; }

    /// <summary>Lines naming an event whose fields could not be read (cut off or interleaved output): each is a record
    /// flagged <see cref="ExitFlags.Unreadable"/>, which the alignment reports as a divergence.</summary>
    public int MalformedLines { get; internal set; }

    /// <summary>True when lines carried <c>-msg timestamp=on</c>'s "pid@seconds.micros:" prefix, so timings are real.</summary>
    public bool HasTimestamps { get; internal set; }

    /// <inheritdoc />
    public override string ToString() =>
        $"QEMU trace: {Lines} lines, {KvmExits} kvm exits, {Accesses} accesses ({AccessesWithoutExit} without an exit), " +
        $"{InvalidAccesses} refused, {ExitsWithoutAccess} exits without an access, {IgnoredLines} ignored, {MalformedLines} malformed";
}
