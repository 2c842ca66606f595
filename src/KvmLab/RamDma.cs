using KvmLab.Kvm;

using KvmLab.Memory;

namespace KvmLab;

/// <summary>Bus-master access to guest RAM for devices (DMA); anything outside RAM fails instead of touching host memory.</summary>
internal sealed class RamDma(GuestMemory ram) : IGuestPhysicalMemory
{
    public bool TryRead(ulong gpa, Span<byte> dst) => ram.TryRead(gpa, dst);

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> src) => ram.TryWrite(gpa, src);
}
