using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// One side of an aligned row: a single access, or a run of <see cref="Count"/> consecutive reads of the same
/// register that all returned the same value (a poll), as one step.
/// </summary>
/// <param name="FirstIndex">Index of the first record in its trace.</param>
/// <param name="Count">Number of records the step stands for (1 unless a poll).</param>
/// <param name="Region">QEMU-style region name, or <see cref="TraceAligner.Unclaimed"/>.</param>
/// <param name="AddressSpace">"io" or "memory".</param>
/// <param name="Access">Direction and space; <see cref="TraceAccess.None"/> for a QEMU exit that traced no access.</param>
/// <param name="Address">Port or guest-physical address; null when the trace does not know it (QEMU bare exits).</param>
/// <param name="Size">Access size in bytes (0 when unknown).</param>
/// <param name="Value">The value (for a poll: the one every read returned); null when the trace does not hold it.</param>
/// <param name="Values">The value as text, "0x1"; empty when unknown.</param>
public sealed record AlignedAccess(int FirstIndex, int Count, string Region, string AddressSpace, TraceAccess Access,
    ulong? Address, int Size, ulong? Value, string Values)
{
    /// <summary>"pio-write serial 0x03f8/1 = 0x68", with "x36 (0x1)" for a poll.</summary>
    public override string ToString()
    {
        var kind = Access == TraceAccess.None ? (AddressSpace == "io" ? "io-exit" : "mmio-exit") : Access.Label();
        var where = Address is { } a ? " 0x" + a.ToString(AddressSpace == "io" ? "x4" : "x8") + "/" + Size : "";
        var what = Value is null ? "" : Count > 1 ? $" x{Count} ({Values})" : $" = {Values}";
        return $"{kind} {Region}{where}{what}";
    }
}
