using System.Buffers.Binary;
using KvmLab.Memory;


namespace KvmLab.Pci;

// MSI-X (QEMU 7.2: hw/pci/msix.c). The capability in configuration space holds only the control word and where the
// table and the pending-bit array live; the table itself is device memory behind a BAR, 16 bytes per vector.
public abstract partial class PciDevice
{
    /// <summary>Bytes of the MSI-X capability (QEMU: <c>MSIX_CAP_LENGTH</c>).</summary>
    public const int MsixCapabilityLength = 12;

    /// <summary>Bytes of one MSI-X table entry: address low, address high, data, vector control.</summary>
    public const int MsixEntrySize = 16;

    /// <summary>Offset of the vector-control dword in a table entry; bit 0 masks the vector.</summary>
    public const int MsixEntryVectorControl = 12;

    private const int MsixControl = 2;
    private const int MsixTableRegister = 4;
    private const int MsixPbaRegister = 8;

    // Bits of the control word's high byte, which is all the guest may write (QEMU: MSIX_ENABLE_MASK, MSIX_MASKALL_MASK).
    private const byte MsixControlHighEnable = 0x80;
    private const byte MsixControlHighFunctionMask = 0x40;

    /// <summary>The register map of an "msix-table" region (one entry; the map repeats per vector).</summary>
    public static readonly RegisterMap MsixTableRegisters = new(
        new Register(0x0, 4, RegisterAccess.RW, "msg_addr_lo", "message address bits 31:0"),
        new Register(0x4, 4, RegisterAccess.RW, "msg_addr_hi", "message address bits 63:32"),
        new Register(0x8, 4, RegisterAccess.RW, "msg_data", "message data"),
        new Register(0xC, 4, RegisterAccess.RW, "vector_ctrl", "bit 0 masks the vector"));

    private byte[] _msixTable = [];
    private byte[] _msixPba = [];
    private int[] _msixUsed = [];
    private bool _msixFunctionMasked = true;

    /// <summary>Offset of the MSI-X capability, or 0 when the device has none.</summary>
    public int MsixCapabilityOffset { get; private set; }

    /// <summary>Number of MSI-X vectors (table entries), 0 without MSI-X.</summary>
    public int MsixVectors => _msixUsed.Length;

    /// <summary>Whether the guest set the enable bit of the MSI-X control word (QEMU: <c>msix_enabled</c>).</summary>
    public bool MsixEnabled => MsixCapabilityOffset != 0 && (_config[MsixCapabilityOffset + MsixControl + 1] & MsixControlHighEnable) != 0;

    /// <summary>The MSI-X table as the guest programmed it (<see cref="MsixVectors"/> × 16 bytes).</summary>
    public ReadOnlySpan<byte> MsixTable => _msixTable;

    /// <summary>Whether <paramref name="vector"/>'s pending bit is set: it fired while masked (QEMU: <c>msix_is_pending</c>).</summary>
    public bool MsixIsPending(int vector) => (_msixPba[vector / 8] & (1 << (vector % 8))) != 0;

    /// <summary>Whether <paramref name="vector"/> is masked now, by its own mask bit, the function mask, or MSI-X being
    /// disabled (QEMU: <c>msix_is_masked</c>).</summary>
    public bool MsixIsMasked(int vector) => MsixVectorMasked(vector, _msixFunctionMasked);

    /// <summary>
    /// Adds MSI-X with <paramref name="vectors"/> vectors (QEMU: <c>msix_init</c>): the capability (ID 0x11; table size
    /// read-only, enable and function mask writable), and the "msix-table" and "msix-pba" regions placed in the regions
    /// of the already registered BARs <paramref name="tableBar"/> and <paramref name="pbaBar"/>, which must be containers.
    /// Every vector starts masked.
    /// </summary>
    /// <param name="vectors">1 to 2048 vectors.</param>
    /// <param name="tableBar">BAR index holding the table.</param>
    /// <param name="tableOffset">Offset of the table in that BAR (8-byte aligned).</param>
    /// <param name="pbaBar">BAR index holding the pending-bit array.</param>
    /// <param name="pbaOffset">Offset of the PBA in that BAR (8-byte aligned).</param>
    /// <param name="capOffset">Where the capability goes, or 0 for the first free space.</param>
    /// <exception cref="ArgumentException">Bad vector count, a BAR that is not registered or not a container, a
    /// misaligned or overlapping layout, or no room for the capability.</exception>
    protected void InitMsix(int vectors, int tableBar, uint tableOffset, int pbaBar, uint pbaOffset, int capOffset = 0)
    {
        if (vectors is < 1 or > 2048)
        {
            throw new ArgumentOutOfRangeException(nameof(vectors), $"{Name}: {vectors} MSI-X vectors is not 1..2048.");
        }

        if (MsixCapabilityOffset != 0)
        {
            throw new InvalidOperationException($"{Name} already has MSI-X.");
        }

        MemoryRegion tableRegion = MsixContainer(tableBar, nameof(tableBar));
        MemoryRegion pbaRegion = MsixContainer(pbaBar, nameof(pbaBar));
        uint tableSize = (uint)(vectors * MsixEntrySize);
        uint pbaSize = (uint)((vectors + 63) / 64 * 8);
        bool overlap = tableBar == pbaBar && tableOffset < pbaOffset + pbaSize && pbaOffset < tableOffset + tableSize;
        if (overlap || tableOffset + tableSize > tableRegion.Size || pbaOffset + pbaSize > pbaRegion.Size ||
            ((tableOffset | pbaOffset) & 7) != 0)
        {
            throw new ArgumentException($"{Name}: MSI-X table and PBA overlap, leave their BARs or are not 8-byte aligned.", nameof(tableOffset));
        }

        int at = AddCapability(PciConfig.CapabilityIdMsix, MsixCapabilityLength, capOffset);
        SetConfig16(at + MsixControl, (ushort)(vectors - 1));
        SetConfig32(at + MsixTableRegister, tableOffset | (uint)tableBar);
        SetConfig32(at + MsixPbaRegister, pbaOffset | (uint)pbaBar);
        _writeMask[at + MsixControl + 1] |= MsixControlHighEnable | MsixControlHighFunctionMask;
        MsixCapabilityOffset = at;
        _msixTable = new byte[tableSize];
        _msixPba = new byte[pbaSize];
        _msixUsed = new int[vectors];
        _msixFunctionMasked = true;
        MsixMaskAll();

        var table = MemoryRegion.CreateIo("msix-table", tableSize, new MsixTableOps(this), Name, MsixTableRegisters);
        var pba = MemoryRegion.CreateIo("msix-pba", pbaSize, new MsixPbaOps(this), Name);
        tableRegion.AddSubregion(tableOffset, table);
        pbaRegion.AddSubregion(pbaOffset, pba);
    }

    /// <summary>
    /// MSI-X in a BAR of its own (QEMU: <c>msix_init_exclusive_bar</c>): a 4 KiB (or larger, a power of two) container
    /// "<c>NAME-msix</c>" with the table at 0 and the PBA in the upper half, registered as 32-bit memory BAR
    /// <paramref name="bar"/>.
    /// </summary>
    protected void InitMsixExclusiveBar(int vectors, int bar)
    {
        uint pbaOffset = Math.Max(0x800u, (uint)(vectors * MsixEntrySize));
        uint pbaSize = (uint)((vectors + 63) / 64 * 8);
        uint size = Math.Max(0x1000u, pbaOffset + pbaSize);
        var container = MemoryRegion.CreateContainer($"{Name}-msix", ulong.IsPow2(size) ? size : 1UL << (64 - (int)ulong.LeadingZeroCount(size)), Name);
        RegisterBar(bar, PciBarKind.Memory32, container);
        InitMsix(vectors, bar, 0, bar, pbaOffset, 0);
    }

    /// <summary>
    /// Sends MSI-X <paramref name="vector"/> (QEMU: <c>msix_notify</c>). Nothing happens for a vector the device has
    /// not declared used; a masked vector (own mask, function mask, or MSI-X disabled) gets its pending bit instead and
    /// fires when unmasked; the message itself goes out only while bus mastering is on. Returns whether a message was sent.
    /// </summary>
    /// <remarks>
    /// Delivery is one <c>KVM_SIGNAL_MSI</c> per message through <see cref="Interrupts.IInterruptSink.SendMsi(ulong, uint, string, int)"/>, not an
    /// irqfd with a GSI route (KVM_SET_GSI_ROUTING + KVM_IRQFD). Here the notification always starts in user space
    /// (the device model just ran), so one ioctl per message is the cheapest path and needs no route kept in sync with
    /// the guest's table writes and masking. A route and an irqfd pay off only when the kernel signals the eventfd
    /// itself, as vhost does, which this device never does.
    /// </remarks>
    protected bool NotifyMsix(int vector)
    {
        if ((uint)vector >= (uint)MsixVectors || _msixUsed[vector] == 0)
        {
            return false;
        }

        if (MsixIsMasked(vector))
        {
            _msixPba[vector / 8] |= (byte)(1 << (vector % 8));
            return false;
        }

        if (!BusMaster || Bus is null)
        {
            return false;
        }

        ReadOnlySpan<byte> entry = _msixTable.AsSpan(vector * MsixEntrySize, MsixEntrySize);
        Bus.Interrupts.SendMsi(BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]), Name, vector);
        return true;
    }

    /// <summary>Declares <paramref name="vector"/> used, so <see cref="NotifyMsix"/> delivers it (QEMU: <c>msix_vector_use</c>).</summary>
    protected void MsixVectorUse(int vector) => _msixUsed[vector]++;

    /// <summary>Drops one use of <paramref name="vector"/>; the last one clears its pending bit (QEMU: <c>msix_vector_unuse</c>).</summary>
    protected void MsixVectorUnuse(int vector)
    {
        if (_msixUsed[vector] == 0 || --_msixUsed[vector] != 0)
        {
            return;
        }

        MsixClearPending(vector);
    }

    /// <summary>Marks every vector unused and clears the pending bits (QEMU: <c>msix_unuse_all_vectors</c>).</summary>
    protected void MsixUnuseAllVectors()
    {
        for (int v = 0; v < MsixVectors; v++)
        {
            _msixUsed[v] = 0;
            MsixClearPending(v);
        }
    }

    /// <summary>Device reset of MSI-X (QEMU: <c>msix_reset</c>): enable and function mask off, table zeroed with every
    /// vector masked, no pending bits.</summary>
    protected void ResetMsix()
    {
        if (MsixCapabilityOffset == 0)
        {
            return;
        }

        Array.Clear(_msixPba);
        _config[MsixCapabilityOffset + MsixControl + 1] &= (byte)~_writeMask[MsixCapabilityOffset + MsixControl + 1];
        _msixFunctionMasked = true; // what MsixConfigWritten derives for a disabled MSI-X
        Array.Clear(_msixTable);
        MsixMaskAll();
    }

    // QEMU: msix_write_config, called after every configuration write.
    private void MsixConfigWritten(int offset, int size)
    {
        int enablePosition = MsixCapabilityOffset + MsixControl + 1;
        if (MsixCapabilityOffset == 0 || offset > enablePosition || offset + size <= enablePosition)
        {
            return;
        }

        bool wasMasked = _msixFunctionMasked;
        _msixFunctionMasked = !MsixEnabled || (_config[enablePosition] & MsixControlHighFunctionMask) != 0;
        if (!MsixEnabled)
        {
            return;
        }

        SetIrq(false);
        if (_msixFunctionMasked == wasMasked)
        {
            return;
        }

        for (int v = 0; v < MsixVectors; v++)
        {
            MsixHandleMaskUpdate(v, MsixVectorMasked(v, wasMasked));
        }
    }

    private bool MsixVectorMasked(int vector, bool functionMasked) =>
        functionMasked || (_msixTable[vector * MsixEntrySize + MsixEntryVectorControl] & 1) != 0;

    // QEMU: msix_handle_mask_update: a vector that becomes unmasked with its pending bit set fires now.
    private void MsixHandleMaskUpdate(int vector, bool wasMasked)
    {
        bool isMasked = MsixIsMasked(vector);
        if (isMasked == wasMasked || isMasked || !MsixIsPending(vector))
        {
            return;
        }

        MsixClearPending(vector);
        NotifyMsix(vector);
    }

    private void MsixClearPending(int vector) => _msixPba[vector / 8] &= (byte)~(1 << (vector % 8));

    // QEMU: msix_mask_all.
    private void MsixMaskAll()
    {
        for (int v = 0; v < MsixVectors; v++)
        {
            bool wasMasked = MsixIsMasked(v);
            _msixTable[v * MsixEntrySize + MsixEntryVectorControl] |= 1;
            MsixHandleMaskUpdate(v, wasMasked);
        }
    }

    private MemoryRegion MsixContainer(int bar, string parameter)
    {
        if (bar < 0 || bar >= _bars.Length || _bars[bar] is not { } registered || registered.Kind == PciBarKind.Io ||
            registered.Region.Ops is not null)
        {
            throw new ArgumentException($"{Name}: BAR {bar} is not a registered memory BAR whose region is a container.", parameter);
        }

        return registered.Region;
    }

    // QEMU: msix_table_mmio_ops: 4- or 8-byte accesses, served as dwords.
    private sealed class MsixTableOps(PciDevice device) : IMemoryRegionOps
    {
        public AccessSizes Valid => new(4, 8);

        public AccessSizes Impl => new(1, 4);

        public ulong Read(ulong offset, int size) => ReadLittleEndian(device._msixTable, (int)offset, size);

        public void Write(ulong offset, int size, ulong value)
        {
            int vector = (int)offset / MsixEntrySize;
            bool wasMasked = device.MsixIsMasked(vector);
            for (int i = 0; i < size; i++)
            {
                device._msixTable[(int)offset + i] = (byte)(value >> (i * 8));
            }

            device.MsixHandleMaskUpdate(vector, wasMasked);
        }
    }

    // QEMU: msix_pba_mmio_ops: read-only; writes are ignored.
    private sealed class MsixPbaOps(PciDevice device) : IMemoryRegionOps
    {
        public AccessSizes Valid => new(4, 8);

        public AccessSizes Impl => new(1, 4);

        public ulong Read(ulong offset, int size) => ReadLittleEndian(device._msixPba, (int)offset, size);

        public void Write(ulong offset, int size, ulong value)
        {
        }
    }

    private static ulong ReadLittleEndian(byte[] bytes, int offset, int size)
    {
        ulong value = 0;
        for (int i = 0; i < size && offset + i < bytes.Length; i++)
        {
            value |= (ulong)bytes[offset + i] << (i * 8);
        }

        return value;
    }
}
