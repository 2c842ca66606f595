namespace KvmLab.Tracing;

/// <summary>
/// A device region that exits are attributed to: what QEMU's memory_region_ops_read/write trace events call the
/// MemoryRegion, plus its owner device and the names of its registers (from the device's register map).
/// </summary>
/// <param name="Device">Owner device, e.g. "edu".</param>
/// <param name="Region">Region name as QEMU names it, e.g. "edu-mmio".</param>
/// <param name="AddressSpace">"io" or "memory".</param>
/// <param name="Registers">Register names indexed by <see cref="ExitRecord.Register"/>.</param>
internal sealed record TraceRegion(string Device, string Region, string AddressSpace, IReadOnlyList<string> Registers)
{
    /// <summary>Register name for an index, or null for <see cref="ExitRecord.None"/> / out of range.</summary>
    public string? RegisterName(ushort index) => index < Registers.Count ? Registers[index] : null;
}
