using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// One side of an aligned row: a single access, or a run of <see cref="Count"/> consecutive reads of the same
/// register collapsed into one step.
/// </summary>
/// <param name="FirstIndex">Index of the first record in its trace.</param>
/// <param name="Count">Number of records the step stands for (1 unless collapsed).</param>
/// <param name="Region">QEMU-style region name, or <see cref="TraceAligner.Unclaimed"/>.</param>
/// <param name="AddressSpace">"io" or "memory".</param>
/// <param name="Access">Direction and space; <see cref="TraceAccess.None"/> for a QEMU exit that traced no access.</param>
/// <param name="Address">Port or guest-physical address; null when the trace does not know it (QEMU bare exits).</param>
/// <param name="Size">Access size in bytes (0 when unknown).</param>
/// <param name="Value">The value (for a collapsed poll: the last one read); null when unknown.</param>
/// <param name="Values">Run-length summary of the values read, e.g. "0x1 x36, 0x0" (one value for single accesses).</param>
public sealed record AlignedAccess(int FirstIndex, int Count, string Region, string AddressSpace, TraceAccess Access,
    ulong? Address, int Size, ulong? Value, string Values)
{
    /// <summary>"pio-write serial 0x03f8/1 = 0x68", with "x37 (0x1 x36, 0x0)" for collapsed polls.</summary>
    public override string ToString()
    {
        var kind = Access == TraceAccess.None ? (AddressSpace == "io" ? "io-exit" : "mmio-exit") : Access.Label();
        var where = Address is { } a ? " 0x" + a.ToString(AddressSpace == "io" ? "x4" : "x8") + "/" + Size : "";
        var what = Value is null ? "" : Count > 1 ? $" x{Count} ({Values})" : $" = {Values}";
        return $"{kind} {Region}{where}{what}";
    }
}
