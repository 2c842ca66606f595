using System.Buffers.Binary;
using KvmLab.Memory;

namespace KvmLab.Pci;

/// <summary>
/// A conventional PCI function with a 256-byte type-0 configuration space (QEMU: <c>PCIDevice</c> with
/// pci_default_read_config / pci_default_write_config). Each byte has a writable mask and a write-1-to-clear mask;
/// BAR, command and capability handling follow QEMU's hw/pci/pci.c and msi.c.
/// </summary>
public abstract class PciDevice
{
    private const int MsiControl = 2;
    private const ushort MsiControlEnable = 0x0001;
    private const ushort MsiControl64Bit = 0x0080;
    private const ushort MsiControlMmeMask = 0x0070;

    private readonly byte[] _config = new byte[PciConfig.Size];
    private readonly byte[] _writeMask = new byte[PciConfig.Size];
    private readonly byte[] _w1cMask = new byte[PciConfig.Size];
    private readonly bool[] _capabilityBytes = new bool[PciConfig.Size];
    private readonly PciBar?[] _bars = new PciBar?[6];
    private bool _irqLevel;

    /// <summary>Initialises identity registers and QEMU's default masks.</summary>
    /// <param name="name">Device name for traces (QEMU's type name, e.g. "edu").</param>
    /// <param name="vendorId">Vendor ID.</param>
    /// <param name="deviceId">Device ID.</param>
    /// <param name="revision">Revision ID.</param>
    /// <param name="classCode">Base class and subclass as QEMU's <c>class_id</c> (e.g. 0x00ff, 0x0600).</param>
    /// <param name="interruptPin">1 for INTA#, 0 for none.</param>
    /// <param name="multiFunction">Sets header type bit 7 so software scans functions 1..7.</param>
    protected PciDevice(string name, ushort vendorId, ushort deviceId, byte revision, ushort classCode, byte interruptPin, bool multiFunction = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.VendorId), vendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.DeviceId), deviceId);
        _config[PciConfig.RevisionId] = revision;
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.ClassCode + 1), classCode);
        _config[PciConfig.HeaderType] = multiFunction ? PciConfig.HeaderTypeMultiFunction : (byte)0;
        _config[PciConfig.InterruptPin] = interruptPin;
        MultiFunction = multiFunction;

        SetMask16(_writeMask, PciConfig.Command,
            PciConfig.CommandIo | PciConfig.CommandMemory | PciConfig.CommandBusMaster | PciConfig.CommandIntxDisable |
            PciConfig.CommandSerr | PciConfig.CommandParity);
        _writeMask[PciConfig.CacheLineSize] = 0xFF;
        _writeMask[PciConfig.InterruptLine] = 0xFF;
        // QEMU leaves the device-specific area plain read/write storage except where capabilities sit.
        _writeMask.AsSpan(PciConfig.DeviceSpecific).Fill(0xFF);
        SetMask16(_w1cMask, PciConfig.Status, PciConfig.StatusWriteOneToClear);
    }

    /// <summary>Device name used in traces.</summary>
    public string Name { get; }

    /// <summary>Whether header type bit 7 is set.</summary>
    public bool MultiFunction { get; }

    /// <summary>The bus the device is attached to, or null.</summary>
    public PciBus? Bus { get; private set; }

    /// <summary>Where the device sits on its bus.</summary>
    public PciAddress Address { get; private set; }

    /// <summary>The interrupt line (GSI) INTx# is wired to, or -1 when not wired.</summary>
    public int IrqLine { get; private set; } = -1;

    /// <summary>The 256 bytes of configuration space as they are now.</summary>
    public ReadOnlySpan<byte> Config => _config;

    /// <summary>Per-byte writable masks (1 bits can be changed by the guest).</summary>
    public ReadOnlySpan<byte> WriteMask => _writeMask;

    /// <summary>Per-byte write-1-to-clear masks.</summary>
    public ReadOnlySpan<byte> WriteOneToClearMask => _w1cMask;

    /// <summary>Registered BARs by index (null where none; the slot after a 64-bit BAR stays null).</summary>
    public IReadOnlyList<PciBar?> Bars => _bars;

    /// <summary>The command register.</summary>
    public ushort Command => BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(PciConfig.Command));

    /// <summary>Whether bus mastering is enabled: without it DMA and MSI writes go nowhere, as in QEMU.</summary>
    public bool BusMaster => (Command & PciConfig.CommandBusMaster) != 0;

    /// <summary>Offset of the MSI capability, or 0 when the device has none.</summary>
    public int MsiCapabilityOffset { get; private set; }

    /// <summary>Whether the guest enabled MSI in the capability's control register.</summary>
    public bool MsiEnabled => MsiCapabilityOffset != 0 &&
        (BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(MsiCapabilityOffset + MsiControl)) & MsiControlEnable) != 0;

    /// <summary>Whether the device currently asserts INTx# (before the command register's INTx disable).</summary>
    public bool IrqLevel => _irqLevel;

    /// <summary>Reads <paramref name="size"/> (1 to 4) bytes of configuration space; bytes past 0xFF read as 0.</summary>
    public virtual uint ReadConfig(int offset, int size)
    {
        CheckConfigAccess(offset, size);
        uint value = 0;
        for (int i = 0; i < size && offset + i < PciConfig.Size; i++)
        {
            value |= (uint)_config[offset + i] << (i * 8);
        }

        return value;
    }

    /// <summary>
    /// Writes configuration space through the masks, then updates BAR mappings and INTx exactly when QEMU would
    /// (a write touching a BAR or the command register). Bytes past 0xFF are ignored.
    /// </summary>
    public virtual void WriteConfig(int offset, int size, uint value)
    {
        CheckConfigAccess(offset, size);
        ushort oldCommand = Command;
        for (int i = 0; i < size && offset + i < PciConfig.Size; i++)
        {
            int at = offset + i;
            byte b = (byte)(value >> (i * 8));
            _config[at] = (byte)((_config[at] & ~_writeMask[at]) | (b & _writeMask[at]));
            _config[at] &= (byte)~(b & _w1cMask[at]);
        }

        bool touchesBars = offset < PciConfig.Bar0 + 24 && offset + size > PciConfig.Bar0;
        bool touchesCommand = offset <= PciConfig.Command && offset + size > PciConfig.Command;
        if (touchesBars || touchesCommand)
        {
            Bus?.UpdateMappings(this);
        }

        if (((oldCommand ^ Command) & PciConfig.CommandIntxDisable) != 0)
        {
            DeliverIntx();
        }
    }

    /// <summary>Called by <see cref="PciBus"/> when the device is plugged in.</summary>
    internal void Attach(PciBus bus, PciAddress address, int irqLine)
    {
        if (Bus is not null)
        {
            throw new InvalidOperationException($"{Name} is already attached at {Address}.");
        }

        Bus = bus;
        Address = address;
        IrqLine = irqLine;
    }

    /// <summary>
    /// Registers BAR <paramref name="index"/> for <paramref name="region"/> (QEMU: <c>pci_register_bar</c>): the size
    /// bits become read-only zeros, so writing all-ones and reading back reveals the size.
    /// </summary>
    /// <exception cref="ArgumentException">Bad index, size not a power of two (at least 4 for I/O, 16 for memory), or slot taken.</exception>
    protected void RegisterBar(int index, PciBarKind kind, MemoryRegion region, bool prefetchable = false)
    {
        ArgumentNullException.ThrowIfNull(region);
        int slots = kind == PciBarKind.Memory64 ? 2 : 1;
        if (index < 0 || index + slots > 6 || _bars[index] is not null || (slots == 2 && _bars[index + 1] is not null))
        {
            throw new ArgumentException($"BAR {index} of {Name} is not available for a {kind} BAR.", nameof(index));
        }

        ulong size = region.Size;
        ulong minimum = kind == PciBarKind.Io ? 4UL : 16UL;
        if (!ulong.IsPow2(size) || size < minimum || (kind != PciBarKind.Memory64 && size > 0x8000_0000))
        {
            throw new ArgumentException($"BAR {index} of {Name}: size 0x{size:x} is not a power of two in range.", nameof(region));
        }

        if (kind == PciBarKind.Io && prefetchable)
        {
            throw new ArgumentException("An I/O BAR cannot be prefetchable.", nameof(prefetchable));
        }

        var bar = new PciBar(index, kind, prefetchable, region);
        _bars[index] = bar;
        int at = bar.ConfigOffset;
        ulong mask = ~(size - 1);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(at), bar.TypeBits);
        BinaryPrimitives.WriteUInt32LittleEndian(_writeMask.AsSpan(at), (uint)mask);
        if (slots == 2)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(at + 4), 0);
            BinaryPrimitives.WriteUInt32LittleEndian(_writeMask.AsSpan(at + 4), (uint)(mask >> 32));
        }
    }

    /// <summary>
    /// Adds a capability of <paramref name="size"/> bytes at the first free dword-aligned offset from 0x40 and links
    /// it at the head of the list (QEMU: <c>pci_add_capability</c> with offset 0). Its header bytes are read-only.
    /// </summary>
    /// <returns>The capability's offset.</returns>
    protected int AddCapability(byte id, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        int offset = PciConfig.DeviceSpecific;
        while (offset + size <= PciConfig.Size && _capabilityBytes.AsSpan(offset, size).Contains(true))
        {
            offset += 4;
        }

        if (offset + size > PciConfig.Size)
        {
            throw new ArgumentException($"No room for a {size}-byte capability in {Name}.", nameof(size));
        }

        _capabilityBytes.AsSpan(offset, size).Fill(true);
        _writeMask.AsSpan(offset, size).Clear();
        _w1cMask.AsSpan(offset, size).Clear();
        _config.AsSpan(offset, size).Clear();
        _config[offset] = id;
        _config[offset + 1] = _config[PciConfig.CapabilityPointer];
        _config[PciConfig.CapabilityPointer] = (byte)offset;
        _config[PciConfig.Status] |= (byte)PciConfig.StatusCapabilityList;
        return offset;
    }

    /// <summary>Adds an MSI capability (QEMU: <c>msi_init</c> without per-vector masking).</summary>
    /// <param name="vectors">Vectors requested: 1, 2, 4, 8, 16 or 32.</param>
    /// <param name="addressIs64Bit">Whether the capability has a high address dword.</param>
    protected void InitMsi(int vectors, bool addressIs64Bit)
    {
        if (!int.IsPow2(vectors) || vectors > 32)
        {
            throw new ArgumentException($"MSI vector count {vectors} is not 1..32 and a power of two.", nameof(vectors));
        }

        int size = addressIs64Bit ? 14 : 10;
        int at = AddCapability(PciConfig.CapabilityIdMsi, size);
        ushort control = (ushort)((int.Log2(vectors) << 1) | (addressIs64Bit ? MsiControl64Bit : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(at + MsiControl), control);
        SetMask16(_writeMask, at + MsiControl, (ushort)(MsiControlEnable | MsiControlMmeMask));
        BinaryPrimitives.WriteUInt32LittleEndian(_writeMask.AsSpan(at + 4), 0xFFFF_FFFC);
        if (addressIs64Bit)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_writeMask.AsSpan(at + 8), 0xFFFF_FFFF);
        }

        SetMask16(_writeMask, at + (addressIs64Bit ? 12 : 8), 0xFFFF);
        MsiCapabilityOffset = at;
    }

    /// <summary>
    /// Sends MSI <paramref name="vector"/> (QEMU: <c>msi_notify</c>). Returns false when it went nowhere: MSI is
    /// disabled, or bus mastering is off (QEMU's MSI write then hits a disabled bus-master address space).
    /// </summary>
    protected bool NotifyMsi(int vector)
    {
        if (!MsiEnabled || !BusMaster || Bus is null)
        {
            return false;
        }

        int at = MsiCapabilityOffset;
        ReadOnlySpan<byte> c = _config;
        ushort control = BinaryPrimitives.ReadUInt16LittleEndian(c[(at + MsiControl)..]);
        bool is64 = (control & MsiControl64Bit) != 0;
        ulong address = BinaryPrimitives.ReadUInt32LittleEndian(c[(at + 4)..]);
        if (is64)
        {
            address |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(c[(at + 8)..]) << 32;
        }

        uint data = BinaryPrimitives.ReadUInt16LittleEndian(c[(at + (is64 ? 12 : 8))..]);
        uint enabledVectors = 1u << ((control & MsiControlMmeMask) >> 4);
        data = (data & ~(enabledVectors - 1)) | ((uint)vector & (enabledVectors - 1));
        Bus.Interrupts.SendMsi(address, data);
        return true;
    }

    /// <summary>Sets status bits the device reports, such as the error bits software clears by writing 1.</summary>
    protected void SetStatusBits(ushort bits)
    {
        ushort status = BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(PciConfig.Status));
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.Status), (ushort)(status | bits));
    }

    /// <summary>Asserts or deasserts INTx# (QEMU: <c>pci_set_irq</c>); the status interrupt bit follows.</summary>
    protected void SetIrq(bool level)
    {
        _irqLevel = level;
        if (level)
        {
            _config[PciConfig.Status] |= (byte)PciConfig.StatusInterrupt;
        }
        else
        {
            _config[PciConfig.Status] &= unchecked((byte)~PciConfig.StatusInterrupt);
        }

        DeliverIntx();
    }

    /// <summary>
    /// Reads guest RAM for DMA. Without bus mastering the read sees nothing (QEMU: the bus-master address space is
    /// disabled, so the device reads zeros) and false is returned; a range that is not all RAM also returns false.
    /// </summary>
    protected bool DmaRead(ulong gpa, Span<byte> destination)
    {
        if (!BusMaster || Bus is null)
        {
            destination.Clear();
            return false;
        }

        return Bus.GuestMemory.TryRead(gpa, destination);
    }

    /// <summary>Writes guest RAM for DMA; dropped (false) without bus mastering or when the range is not all RAM.</summary>
    protected bool DmaWrite(ulong gpa, ReadOnlySpan<byte> source) =>
        BusMaster && Bus is not null && Bus.GuestMemory.TryWrite(gpa, source);

    private void DeliverIntx()
    {
        bool effective = _irqLevel && (Command & PciConfig.CommandIntxDisable) == 0;
        Bus?.SetIntx(this, effective);
    }

    private static void CheckConfigAccess(int offset, int size)
    {
        // Three bytes happen: a dword access at register 0xFD is clamped to the end of config space (QEMU's
        // pci_host_config_read_common does the same, and pci_default_read_config copies any length up to 4).
        if (size is < 1 or > 4 || offset < 0 || offset >= PciConfig.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Config access 0x{offset:x}..+{size} is outside 0x0..+0x100 or not 1 to 4 bytes.");
        }
    }

    private static void SetMask16(byte[] mask, int offset, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(mask.AsSpan(offset), value);
}
