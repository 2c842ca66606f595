using KvmLab.Pci;

namespace KvmLab.Tracing;

/// <summary>How a guest reached PCI configuration space.</summary>
internal enum PciConfigMechanism
{
    /// <summary>Configuration mechanism #1: a 4-byte write of CONFIG_ADDRESS to port 0xCF8, then data at 0xCFC..0xCFF.</summary>
    Conf1,

    /// <summary>PCIe ECAM: a memory access inside the window at <see cref="PcLayout.EcamBase"/>.</summary>
    Ecam,
}

/// <summary>One guest access to PCI configuration space, decoded from the exits that carried it.</summary>
/// <param name="Sequence">Index in the trace of the exit that touched the data (conf1) or the ECAM window.</param>
/// <param name="Function">Which function's configuration space.</param>
/// <param name="Offset">Byte offset inside that space (0..0xFF for conf1, 0..0xFFF for ECAM).</param>
/// <param name="Size">Access size in bytes.</param>
/// <param name="IsWrite">True for a write.</param>
/// <param name="Value">Value written, or value the guest read.</param>
/// <param name="Mechanism">conf1 or ECAM.</param>
internal readonly record struct PciConfigAccess(int Sequence, PciAddress Function, int Offset, int Size, bool IsWrite,
    ulong Value, PciConfigMechanism Mechanism);

/// <summary>
/// The PCI configuration accesses of a trace: conf1 data accesses on ports 0xCFC..0xCFF and ECAM accesses, each
/// with the function and register its record carries.
/// </summary>
internal static class PciConfigAccesses
{
    /// <summary>The configuration accesses of <paramref name="trace"/>, in trace order.</summary>
    /// <remarks>
    /// Each record of a configuration access carries the function and register the host decoded when it dispatched
    /// it (<see cref="ExitRecord.TryGetConfigTarget"/>): a CONFIG_DATA access while CONFIG_ADDRESS's enable bit is
    /// clear reached no function and is not listed, nor are the CONFIG_ADDRESS writes themselves.
    /// </remarks>
    public static IReadOnlyList<PciConfigAccess> From(ExitTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var result = new List<PciConfigAccess>();
        var seq = -1;
        foreach (ref readonly var r in trace.Records())
        {
            seq++;
            if (r.TryGetConfigTarget(out var function, out var register))
                result.Add(new PciConfigAccess(seq, function, register, r.Size, r.Access.IsWrite(), r.Value,
                    r.Access.IsPio() ? PciConfigMechanism.Conf1 : PciConfigMechanism.Ecam));
        }
        return result;
    }
}
