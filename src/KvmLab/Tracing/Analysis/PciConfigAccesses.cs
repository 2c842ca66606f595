using KvmLab.Pci;

namespace KvmLab.Tracing;

/// <summary>How a guest reached PCI configuration space.</summary>
public enum PciConfigMechanism
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
public readonly record struct PciConfigAccess(int Sequence, PciAddress Function, int Offset, int Size, bool IsWrite,
    ulong Value, PciConfigMechanism Mechanism);

/// <summary>
/// Decodes the PCI configuration accesses hidden in a trace: conf1 address/data pairs on ports 0xCF8/0xCFC and
/// ECAM accesses at <see cref="PcLayout.EcamBase"/> + (bus &lt;&lt; 20 | dev &lt;&lt; 15 | fn &lt;&lt; 12 | offset).
/// </summary>
public static class PciConfigAccesses
{
    /// <summary>The configuration accesses of <paramref name="trace"/>, in trace order.</summary>
    /// <remarks>
    /// conf1 follows QEMU's pci_host: only a 4-byte write at 0xCF8 latches CONFIG_ADDRESS, a data access while its
    /// enable bit (31) is clear reaches no device and is not listed, and the register field is dword aligned so the
    /// data port's low two address bits select the byte. Reads of 0xCF8 only read the latch back and are not listed.
    /// </remarks>
    public static IReadOnlyList<PciConfigAccess> From(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var result = new List<PciConfigAccess>();
        uint latch = 0;
        var seq = -1;
        foreach (ref readonly var r in trace.Records())
        {
            seq++;
            if (r.Access.IsPio())
            {
                if (r.Address == PcLayout.PciConfigAddressPort && r.Access == TraceAccess.PioWrite && r.Size == 4)
                {
                    latch = (uint)r.Value;
                }
                else if (r.Address >= PcLayout.PciConfigDataPort && r.Address < PcLayout.PciConfigDataPort + 4u && (latch & PciHost.ConfigAddressEnable) != 0)
                {
                    var function = PciAddress.FromConfigAddress(latch);
                    var offset = (int)(latch & 0xFC) | (int)(r.Address - PcLayout.PciConfigDataPort);
                    result.Add(new PciConfigAccess(seq, function, offset, r.Size, r.Access.IsWrite(), r.Value, PciConfigMechanism.Conf1));
                }
            }
            else if (r.Access.IsMmio() && r.Address - PcLayout.EcamBase < PcLayout.EcamSize)
            {
                var a = r.Address - PcLayout.EcamBase;
                var function = PciAddress.FromEcamOffset(a);
                result.Add(new PciConfigAccess(seq, function, (int)(a & 0xFFF), r.Size, r.Access.IsWrite(), r.Value, PciConfigMechanism.Ecam));
            }
        }
        return result;
    }
}
