using KvmLab.Memory;

namespace KvmLab.Pci.Q35;

/// <summary>
/// The ops behind a BAR whose device KvmLab does not implement (the AHCI controller, the SMBus host): reads give 0,
/// writes are dropped. The BAR itself (type, size, region name) is QEMU's, so a guest sizing and mapping it sees what
/// it sees under QEMU; what the registers would do is not modelled.
/// </summary>
internal sealed class UnimplementedBarOps : IMemoryRegionOps
{
    public ulong Read(ulong offset, int size) => 0;

    public void Write(ulong offset, int size, ulong value)
    {
    }
}
