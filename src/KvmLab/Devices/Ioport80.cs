using KvmLab.Memory;

namespace KvmLab.Devices;

/// <summary>
/// Port 0x80, the POST-code port firmware and kernels write to as a short delay: QEMU's pc and q35 machines give it a
/// region of its own, "ioport80" (hw/i386/pc.c, ioport80_write ignores the value, ioport80_read answers all-ones,
/// measured from QEMU 7.2's monitor), so the write is still a KVM_EXIT_IO to user space but lands on a device instead
/// of the unassigned handler.
/// </summary>
internal sealed class Ioport80
{
    /// <summary>The port.</summary>
    public const ushort Port = 0x80;

    /// <summary>The register map of "ioport80".</summary>
    public static readonly RegisterMap Registers = new(
        new Register(0x0, 1, RegisterAccess.RW, "post", "POST code / delay: writes ignored, reads all-ones"));

    /// <summary>Creates the device and its region (not yet placed).</summary>
    public Ioport80()
    {
        Region = MemoryRegion.CreateIo("ioport80", 1, new Ops(), "ioport80", Registers);
    }

    /// <summary>The one-port region; place it at <see cref="Port"/> in the "io" space.</summary>
    public MemoryRegion Region { get; }

    private sealed class Ops : IMemoryRegionOps
    {
        public ulong Read(ulong offset, int size) => ulong.MaxValue;

        public void Write(ulong offset, int size, ulong value)
        {
        }
    }
}
