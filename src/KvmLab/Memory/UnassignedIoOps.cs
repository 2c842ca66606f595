namespace KvmLab.Memory;

/// <summary>
/// The ops of the "io" root region: ports nobody claims read all-ones and ignore writes (QEMU 7.2:
/// <c>unassigned_io_ops</c> in softmmu/ioport.c; measured, see tests/KvmLab.Tests/Memory/QemuProbe).
/// </summary>
internal sealed class UnassignedIoOps : IMemoryRegionOps
{
    public ulong Read(ulong offset, int size) => ulong.MaxValue;

    public void Write(ulong offset, int size, ulong value)
    {
    }
}
