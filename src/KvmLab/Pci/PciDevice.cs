using System.Buffers.Binary;
using KvmLab.Memory;

namespace KvmLab.Pci;

/// <summary>
/// A PCI function (QEMU: <c>PCIDevice</c> with pci_default_read_config / pci_default_write_config): 256 bytes of
/// configuration space for a conventional function, 4 KiB for a PCI Express one (QEMU: <c>QEMU_PCI_CAP_EXPRESS</c>,
/// pci_config_size). Each byte has a writable mask and a write-1-to-clear mask; BAR, command and capability handling
/// follow QEMU's hw/pci/pci.c, msi.c and pcie.c.
/// </summary>
public abstract partial class PciDevice
{
    private const int MsiControl = 2;
    private const ushort MsiControlEnable = 0x0001;
    private const ushort MsiControl64Bit = 0x0080;
    private const ushort MsiControlMmeMask = 0x0070;

    private readonly byte[] _config;
    private readonly byte[] _writeMask;
    private readonly byte[] _w1cMask;
    private readonly bool[] _capabilityBytes;
    private readonly PciBar?[] _bars;
    private bool _irqLevel;

    /// <summary>Initialises identity registers and QEMU's default masks.</summary>
    /// <param name="name">Device name for traces (QEMU's type name, e.g. "edu").</param>
    /// <param name="vendorId">Vendor ID.</param>
    /// <param name="deviceId">Device ID.</param>
    /// <param name="revision">Revision ID.</param>
    /// <param name="classCode">Base class and subclass as QEMU's <c>class_id</c> (e.g. 0x00ff, 0x0600).</param>
    /// <param name="interruptPin">1 for INTA#, 0 for none.</param>
    /// <param name="multiFunction">Sets header type bit 7 so software scans functions 1..7.</param>
    /// <param name="express">A PCI Express function: 4 KiB of configuration space, the part past 0x100 reachable only through ECAM.</param>
    /// <param name="headerType">0 for an endpoint, 1 for a PCI-to-PCI bridge (two BARs, bus numbers and windows instead of BAR2..5).</param>
    /// <param name="subsystemVendorId">Subsystem vendor ID of a type-0 function; 0 with <paramref name="subsystemId"/> 0 gives
    /// QEMU's default, 1af4:1100 (pci_set_default_subsystem_id). Bridges have no such register.</param>
    /// <param name="subsystemId">Subsystem ID of a type-0 function.</param>
    protected PciDevice(string name, ushort vendorId, ushort deviceId, byte revision, ushort classCode, byte interruptPin,
        bool multiFunction = false, bool express = false, byte headerType = 0, ushort subsystemVendorId = 0, ushort subsystemId = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (headerType > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(headerType), $"Header type {headerType} is not 0 (endpoint) or 1 (bridge).");
        }

        Name = name;
        IsExpress = express;
        ConfigSize = express ? PciConfig.ExpressSize : PciConfig.Size;
        HeaderType = headerType;
        _config = new byte[ConfigSize];
        _writeMask = new byte[ConfigSize];
        _w1cMask = new byte[ConfigSize];
        _capabilityBytes = new bool[ConfigSize];
        _bars = new PciBar?[headerType == 1 ? 2 : 6];
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.VendorId), vendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.DeviceId), deviceId);
        _config[PciConfig.RevisionId] = revision;
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.ClassCode + 1), classCode);
        _config[PciConfig.HeaderType] = (byte)((multiFunction ? PciConfig.HeaderTypeMultiFunction : 0) | headerType);
        _config[PciConfig.InterruptPin] = interruptPin;
        MultiFunction = multiFunction;

        // pci_init_wmask: parity error response is not among them (measured: the command register's mask is 0x0507).
        SetMask16(_writeMask, PciConfig.Command,
            PciConfig.CommandIo | PciConfig.CommandMemory | PciConfig.CommandBusMaster | PciConfig.CommandIntxDisable |
            PciConfig.CommandSerr);
        _writeMask[PciConfig.CacheLineSize] = 0xFF;
        _writeMask[PciConfig.InterruptLine] = 0xFF;
        // QEMU leaves the device-specific area (extended space included) plain read/write storage except where
        // capabilities sit (pci_init_wmask).
        _writeMask.AsSpan(PciConfig.DeviceSpecific).Fill(0xFF);
        SetMask16(_w1cMask, PciConfig.Status, PciConfig.StatusWriteOneToClear);
        if (headerType == 0)
        {
            if (subsystemVendorId == 0 && subsystemId == 0)
            {
                (subsystemVendorId, subsystemId) = (PciConfig.DefaultSubsystemVendorId, PciConfig.DefaultSubsystemId);
            }

            BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.SubsystemVendorId), subsystemVendorId);
            BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(PciConfig.SubsystemId), subsystemId);
        }
    }

    /// <summary>Device name used in traces.</summary>
    public string Name { get; }

    /// <summary>Whether header type bit 7 is set.</summary>
    public bool MultiFunction { get; }

    /// <summary>Whether this is a PCI Express function (4 KiB of configuration space).</summary>
    public bool IsExpress { get; }

    /// <summary>Bytes of configuration space: 256, or 4096 for a PCI Express function (QEMU: pci_config_size).</summary>
    public int ConfigSize { get; }

    /// <summary>The header layout: 0 endpoint, 1 PCI-to-PCI bridge.</summary>
    public byte HeaderType { get; }

    /// <summary>The bus the device is attached to, or null.</summary>
    public PciBus? Bus { get; private set; }

    /// <summary>Where the device sits on its bus; the bus number is the bus's number now (a secondary bus's number is
    /// whatever the guest programmed into its bridge).</summary>
    public PciAddress Address => Bus is null ? _address : _address with { Bus = Bus.Number };

    private PciAddress _address;

    /// <summary>The interrupt line (GSI) INTx# is wired to, or -1 when not wired.</summary>
    public int IrqLine { get; private set; } = -1;

    /// <summary>The configuration space as it is now (<see cref="ConfigSize"/> bytes).</summary>
    public ReadOnlySpan<byte> Config => _config;

    /// <summary>Per-byte writable masks (1 bits can be changed by the guest).</summary>
    public ReadOnlySpan<byte> WriteMask => _writeMask;

    /// <summary>Per-byte write-1-to-clear masks.</summary>
    public ReadOnlySpan<byte> WriteOneToClearMask => _w1cMask;

    /// <summary>Registered BARs by index, six for an endpoint and two for a bridge (null where none; the slot after a
    /// 64-bit BAR stays null).</summary>
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

    /// <summary>Reads <paramref name="size"/> (1 to 4) bytes of configuration space; bytes past the end read as 0.</summary>
    public virtual uint ReadConfig(int offset, int size)
    {
        CheckConfigAccess(offset, size);
        uint value = 0;
        for (int i = 0; i < size && offset + i < ConfigSize; i++)
        {
            value |= (uint)_config[offset + i] << (i * 8);
        }

        return value;
    }

    /// <summary>
    /// Writes configuration space through the masks, then updates BAR mappings and INTx exactly when QEMU would
    /// (a write touching a BAR, the expansion ROM register or the command register; for a bridge also its windows and
    /// bus numbers, QEMU's pci_bridge_write_config). Bytes past the end are ignored.
    /// </summary>
    public virtual void WriteConfig(int offset, int size, uint value)
    {
        CheckConfigAccess(offset, size);
        ushort oldCommand = Command;
        for (int i = 0; i < size && offset + i < ConfigSize; i++)
        {
            int at = offset + i;
            byte b = (byte)(value >> (i * 8));
            _config[at] = (byte)((_config[at] & ~_writeMask[at]) | (b & _writeMask[at]));
            _config[at] &= (byte)~(b & _w1cMask[at]);
        }

        if (MsiCapabilityOffset != 0 && offset <= MsiCapabilityOffset + MsiControl && MsiCapabilityOffset + MsiControl < offset + size)
        {
            ClampMsiVectors();
        }

        bool touchesBars = offset < PciConfig.Bar0 + _bars.Length * 4 && offset + size > PciConfig.Bar0;
        bool touchesCommand = offset <= PciConfig.Command && offset + size > PciConfig.Command;
        if (touchesBars || touchesCommand)
        {
            Bus?.UpdateMappings(this);
        }

        if (HeaderType == 1)
        {
            BridgeConfigWritten(offset, size, touchesCommand);
        }

        if (((oldCommand ^ Command) & PciConfig.CommandIntxDisable) != 0)
        {
            DeliverIntx();
        }

        MsixConfigWritten(offset, size);
    }

    // msi_write_config: more vectors enabled than the capability offers falls back to the number it offers.
    private void ClampMsiVectors()
    {
        int at = MsiCapabilityOffset + MsiControl;
        ushort control = GetConfig16(at);
        int offered = (control >> 1) & 0x7;
        if (((control & MsiControlMmeMask) >> 4) > offered)
        {
            SetConfig16(at, (ushort)((control & ~MsiControlMmeMask) | (offered << 4)));
        }
    }

    /// <summary>
    /// Whether the function has power (QEMU: <c>PCIDevice.has_power</c>). Without it configuration cycles read
    /// all-ones and writes are dropped, and its BARs decode nothing; a PCI Express slot's power controller takes it
    /// away from the device behind (pcie_cap_update_power).
    /// </summary>
    public bool HasPower
    {
        get => _hasPower;
        internal set
        {
            if (_hasPower == value)
            {
                return;
            }

            // pci_set_power: the BARs follow at once.
            _hasPower = value;
            Bus?.UpdateMappings(this);
        }
    }

    private bool _hasPower = true;

    /// <summary>A bridge's hook after a configuration write: windows, bus numbers and bridge control take effect here.</summary>
    private protected virtual void BridgeConfigWritten(int offset, int size, bool touchesCommand)
    {
    }

    /// <summary>Called by <see cref="PciBus"/> when the device is plugged in.</summary>
    internal void Attach(PciBus bus, PciAddress address, int irqLine)
    {
        if (Bus is not null)
        {
            throw new InvalidOperationException($"{Name} is already attached at {Address}.");
        }

        Bus = bus;
        _address = address;
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
        if (index < 0 || index + slots > _bars.Length || _bars[index] is not null || (slots == 2 && _bars[index + 1] is not null))
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
    /// Adds a capability of <paramref name="size"/> bytes and links it at the head of the list (QEMU:
    /// <c>pci_add_capability</c>): at <paramref name="offset"/>, or with 0 at the first free dword-aligned offset from
    /// 0x40. Its bytes become read-only zeros but for the ID; callers open the writable fields.
    /// </summary>
    /// <returns>The capability's offset.</returns>
    /// <exception cref="ArgumentException">No room, or the given range overlaps a capability or leaves 0x40..0xFF.</exception>
    protected int AddCapability(byte id, int size, int offset = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        if (offset != 0)
        {
            if (offset < PciConfig.DeviceSpecific || offset + size > PciConfig.Size || (offset & 3) != 0 ||
                _capabilityBytes.AsSpan(offset, size).Contains(true))
            {
                throw new ArgumentException(
                    $"{Name}: a {size}-byte capability at 0x{offset:x} overlaps another or leaves the dword-aligned 0x40..0xff.", nameof(offset));
            }
        }
        else
        {
            offset = PciConfig.DeviceSpecific;
            while (offset + size <= PciConfig.Size && _capabilityBytes.AsSpan(offset, size).Contains(true))
            {
                offset += 4;
            }

            if (offset + size > PciConfig.Size)
            {
                throw new ArgumentException($"No room for a {size}-byte capability in {Name}.", nameof(size));
            }
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
    /// <param name="offset">Where the capability goes; 0 finds the first free place, as QEMU's msi_init with offset 0.</param>
    protected void InitMsi(int vectors, bool addressIs64Bit, int offset = 0)
    {
        if (!int.IsPow2(vectors) || vectors > 32)
        {
            throw new ArgumentException($"MSI vector count {vectors} is not 1..32 and a power of two.", nameof(vectors));
        }

        int size = addressIs64Bit ? 14 : 10;
        int at = AddCapability(PciConfig.CapabilityIdMsi, size, offset);
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
        if (!MsiEnabled || !CanMaster || Bus is null)
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
        Bus.Interrupts.SendMsi(address, data, Name, vector);
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
    /// The PCI half of a function's reset (QEMU: <c>pci_do_device_reset</c>, after the device's own reset): INTx#
    /// deasserted; the guest-writable and write-1-to-clear bits of command and status cleared; cache line size and
    /// interrupt line 0; every BAR back to its type bits, so nothing decodes until software programs it again; MSI-X
    /// reset (<see cref="ResetMsix"/>). Other capability registers are the device's to reset.
    /// </summary>
    protected void ResetStandardRegisters()
    {
        SetIrq(false);
        foreach (int register in (int[])[PciConfig.Command, PciConfig.Status])
        {
            ushort cleared = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_writeMask.AsSpan(register)) |
                BinaryPrimitives.ReadUInt16LittleEndian(_w1cMask.AsSpan(register)));
            ushort value = BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(register));
            BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(register), (ushort)(value & ~cleared));
        }

        _config[PciConfig.CacheLineSize] = 0;
        _config[PciConfig.InterruptLine] = 0;
        foreach (PciBar? bar in _bars)
        {
            if (bar is null)
            {
                continue;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(bar.ConfigOffset), bar.TypeBits);
            if (bar.Kind == PciBarKind.Memory64)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(bar.ConfigOffset + 4), 0);
            }
        }

        Bus?.UpdateMappings(this);
        ResetMsix();
    }

    /// <summary>
    /// Reads guest RAM for DMA. Without bus mastering the read sees nothing (QEMU: the bus-master address space is
    /// disabled, so the device reads zeros) and false is returned; a range that is not all RAM also returns false.
    /// </summary>
    protected bool DmaRead(ulong gpa, Span<byte> destination)
    {
        if (!CanMaster || Bus is null)
        {
            destination.Clear();
            return false;
        }

        return Bus.GuestMemory.TryRead(gpa, destination);
    }

    /// <summary>Writes guest RAM for DMA; dropped (false) without bus mastering or when the range is not all RAM.</summary>
    protected bool DmaWrite(ulong gpa, ReadOnlySpan<byte> source) =>
        CanMaster && Bus is not null && Bus.GuestMemory.TryWrite(gpa, source);

    /// <summary>Bus mastering is on here and in every bridge above, so DMA and MSI writes reach memory.</summary>
    private protected bool CanMaster => BusMaster && Bus is { MasterEnabled: true };

    private void DeliverIntx()
    {
        bool effective = _irqLevel && (Command & PciConfig.CommandIntxDisable) == 0;
        Bus?.SetIntx(this, effective);
    }

    private void CheckConfigAccess(int offset, int size)
    {
        // Three bytes happen: a dword access at register 0xFD is clamped to the end of config space (QEMU's
        // pci_host_config_read_common does the same, and pci_default_read_config copies any length up to 4).
        if (size is < 1 or > 4 || offset < 0 || offset >= ConfigSize)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Config access 0x{offset:x}..+{size} is outside 0x0..+0x{ConfigSize:x} or not 1 to 4 bytes.");
        }
    }

    private static void SetMask16(byte[] mask, int offset, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(mask.AsSpan(offset), value);
}
