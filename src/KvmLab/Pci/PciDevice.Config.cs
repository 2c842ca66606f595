using System.Buffers.Binary;

namespace KvmLab.Pci;

// Raw access to configuration bytes and masks for device files, and extended capabilities (QEMU: pcie.c).
public abstract partial class PciDevice
{
    /// <summary>The offsets of the extended capabilities in list order (empty for a conventional function).</summary>
    public IReadOnlyList<int> ExtendedCapabilityOffsets => _extendedCapabilities;

    private readonly List<int> _extendedCapabilities = [];

    /// <summary>
    /// Whether the device's own logic changes the byte at <paramref name="offset"/> beyond what its write masks allow
    /// (a lock that turns bits read-only, a query answered in place, status a write triggers). Checks that read-only
    /// bits never change, like the device fuzzer's, skip these bytes.
    /// </summary>
    public virtual bool DeviceChangesConfigByte(int offset) => false;

    /// <summary>Sets a byte of configuration space as the device's reset value (masks do not apply).</summary>
    protected void SetConfig8(int offset, byte value) => _config[offset] = value;

    /// <summary>Sets a little-endian word of configuration space as the device's reset value.</summary>
    protected void SetConfig16(int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(offset), value);

    /// <summary>Sets a little-endian dword of configuration space as the device's reset value.</summary>
    protected void SetConfig32(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(offset), value);

    /// <summary>Reads a little-endian word of configuration space.</summary>
    protected ushort GetConfig16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(offset));

    /// <summary>Reads a little-endian dword of configuration space.</summary>
    protected uint GetConfig32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_config.AsSpan(offset));

    /// <summary>Sets which bits of <paramref name="length"/> bytes at <paramref name="offset"/> the guest may write
    /// (little-endian <paramref name="mask"/>, QEMU: <c>wmask</c>).</summary>
    protected void SetWriteMask(int offset, int length, uint mask) => SetMask(_writeMask, offset, length, mask);

    /// <summary>Sets which bits are cleared by writing 1 (QEMU: <c>w1cmask</c>).</summary>
    protected void SetWriteOneToClearMask(int offset, int length, uint mask) => SetMask(_w1cMask, offset, length, mask);

    /// <summary>
    /// Adds an extended capability of <paramref name="size"/> bytes at <paramref name="offset"/> (0x100 or above) and
    /// links it at the end of the list (QEMU: <c>pcie_add_capability</c>). The header holds ID 15:0, version 19:16
    /// and the next offset 31:20; the capability's bytes become read-only zeros but for the header.
    /// </summary>
    /// <exception cref="InvalidOperationException">The function is not PCI Express.</exception>
    /// <exception cref="ArgumentException">The range is misaligned, leaves extended space, overlaps another, or the
    /// first extended capability is not at 0x100.</exception>
    protected void AddExtendedCapability(ushort id, byte version, int offset, int size)
    {
        if (!IsExpress)
        {
            throw new InvalidOperationException($"{Name} is a conventional PCI function: it has no extended configuration space.");
        }

        if (offset < PciConfig.ExtendedCapabilities || (offset & 3) != 0 || size < 4 || offset + size > ConfigSize ||
            _capabilityBytes.AsSpan(offset, size).Contains(true) ||
            (_extendedCapabilities.Count == 0) != (offset == PciConfig.ExtendedCapabilities))
        {
            throw new ArgumentException(
                $"{Name}: an extended capability at 0x{offset:x}..+0x{size:x} must be dword-aligned inside 0x100..0xfff, " +
                "overlap none, and the first one must sit at 0x100.", nameof(offset));
        }

        _capabilityBytes.AsSpan(offset, size).Fill(true);
        _writeMask.AsSpan(offset, size).Clear();
        _w1cMask.AsSpan(offset, size).Clear();
        _config.AsSpan(offset, size).Clear();
        SetConfig32(offset, id | ((uint)version << 16));
        if (_extendedCapabilities.Count > 0)
        {
            int last = _extendedCapabilities[^1];
            SetConfig32(last, (GetConfig32(last) & 0x000F_FFFF) | ((uint)offset << 20));
        }

        _extendedCapabilities.Add(offset);
    }

    private static void SetMask(byte[] masks, int offset, int length, uint mask)
    {
        if (length is < 1 or > 4 || offset < 0 || offset + length > masks.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Mask 0x{offset:x}..+{length} is outside configuration space or not 1 to 4 bytes.");
        }

        for (int i = 0; i < length; i++)
        {
            masks[offset + i] = (byte)(mask >> (i * 8));
        }
    }
}
