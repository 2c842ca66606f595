using KvmLab.Memory;

using KvmLab.Interrupts;

namespace KvmLab.Pci;

/// <summary>
/// The PCI host: the root bus with the board's host bridge at 00:00.0, configuration mechanism #1 at 0xCF8/0xCFC
/// (QEMU: hw/pci/pci_host.c, regions "pci-conf-idx" and "pci-conf-data") reaching the first 256 bytes of any
/// function, and, where the board has one, the ECAM window "pcie-mmcfg-mmio" (hw/pci/pcie_host.c) reaching all 4 KiB.
/// The q35 host bridge places, moves and removes the window when the guest programs PCIEXBAR (mch_update_pciexbar);
/// the pc board has none, as QEMU's i440FX.
/// </summary>
/// <remarks>
/// Measured on QEMU 7.2 (tests/KvmLab.Tests/Memory/QemuProbe): CONFIG_ADDRESS takes only dword writes at 0xCF8, and
/// a read of any size at 0xCF8..0xCFB returns the low bytes of the whole register, not shifted by the port offset.
/// CONFIG_DATA reads all-ones while the enable bit is clear; absent functions read all-ones. Cycles for bus numbers
/// other than 0 reach the bridges' secondary buses as QEMU's pci_find_bus_nr finds them.
/// </remarks>
public sealed class PciHost
{
    /// <summary>CONFIG_ADDRESS bit 31: the next CONFIG_DATA access is a configuration cycle.</summary>
    public const uint ConfigAddressEnable = 0x8000_0000;

    /// <summary>Register map of the "pci-conf-idx" region.</summary>
    public static readonly RegisterMap ConfigAddressRegisters = new(
        new Register(0x0, 4, RegisterAccess.RW, "CONFIG_ADDRESS", "enable bit 31, bus 23:16, device 15:11, function 10:8, register 7:2"));

    /// <summary>Register map of the "pci-conf-data" region.</summary>
    public static readonly RegisterMap ConfigDataRegisters = new(
        new Register(0x0, 4, RegisterAccess.RW, "CONFIG_DATA", "the configuration dword CONFIG_ADDRESS selects; byte lanes by port"));

    private readonly AddressSpace _memory;
    private PciAddress _cycleFunction;
    private int _cycleRegister;
    private bool _cyclePending;

    /// <summary>Creates the host with the i440FX host bridge (QEMU's pc machine).</summary>
    public PciHost(AddressSpace memory, AddressSpace io, IInterruptSink interrupts, IGuestPhysicalMemory guestMemory)
        : this(memory, io, interrupts, guestMemory, new I440fxHostBridge(), "i440FX-pcihost")
    {
    }

    /// <summary>Creates the host, maps its conf1 regions and attaches <paramref name="hostBridge"/> at 00:00.0.</summary>
    /// <param name="memory">The "memory" address space.</param>
    /// <param name="io">The "io" address space.</param>
    /// <param name="interrupts">Where INTx and MSI go.</param>
    /// <param name="guestMemory">Guest RAM for DMA.</param>
    /// <param name="hostBridge">The host bridge function.</param>
    /// <param name="owner">The host's QEMU type name, the owner of the conf1 regions ("i440FX-pcihost", "q35-pcihost").</param>
    public PciHost(AddressSpace memory, AddressSpace io, IInterruptSink interrupts, IGuestPhysicalMemory guestMemory, PciDevice hostBridge, string owner)
    {
        ArgumentNullException.ThrowIfNull(hostBridge);
        _memory = memory ?? throw new ArgumentNullException(nameof(memory));
        Owner = owner;
        Bus = new PciBus(memory, io, interrupts, guestMemory);
        ConfigAddressRegion = MemoryRegion.CreateIo("pci-conf-idx", 4, new ConfigAddressOps(this), owner, ConfigAddressRegisters);
        ConfigDataRegion = MemoryRegion.CreateIo("pci-conf-data", 4, new ConfigDataOps(this), owner, ConfigDataRegisters);
        io.Root.AddSubregion(PcLayout.PciConfigAddressPort, ConfigAddressRegion);
        io.Root.AddSubregion(PcLayout.PciConfigDataPort, ConfigDataRegion);
        HostBridge = hostBridge;
        Bus.Attach(hostBridge, PcLayout.HostBridgeSlot);
        if (hostBridge is IEcamOwner ecamOwner)
        {
            ecamOwner.Host = this;
        }
    }

    /// <summary>The root bus (bus 0).</summary>
    public PciBus Bus { get; }

    /// <summary>The host bridge function at 00:00.0.</summary>
    public PciDevice HostBridge { get; }

    /// <summary>The host's QEMU type name.</summary>
    public string Owner { get; }

    /// <summary>The CONFIG_ADDRESS port region at 0xCF8.</summary>
    public MemoryRegion ConfigAddressRegion { get; }

    /// <summary>The CONFIG_DATA port region at 0xCFC..0xCFF.</summary>
    public MemoryRegion ConfigDataRegion { get; }

    /// <summary>The ECAM window region while it is mapped, else null (always null on the pc board).</summary>
    public MemoryRegion? EcamRegion { get; private set; }

    /// <summary>The current CONFIG_ADDRESS value.</summary>
    public uint ConfigAddress { get; private set; }

    /// <summary>Plugs a device into bus 0 (see <see cref="PciBus.Attach"/>).</summary>
    public void Attach(PciDevice device, int slot, int function = 0, int irqLine = -1) => Bus.Attach(device, slot, function, irqLine);

    /// <summary>Every function reachable now, bus by bus in the order a depth-first scan finds them.</summary>
    public IEnumerable<PciDevice> Devices => DevicesOf(Bus);

    /// <summary>
    /// Maps the ECAM window at <paramref name="baseAddress"/> with <paramref name="size"/> bytes (1 MiB per bus), or
    /// removes it when <paramref name="baseAddress"/> is null (QEMU: pcie_host_mmcfg_update).
    /// </summary>
    /// <exception cref="ArgumentException">The size is not 1 MiB times a power of two up to 256 buses.</exception>
    public void SetEcam(ulong? baseAddress, ulong size)
    {
        if (size < 1UL << 20 || size > PcLayout.EcamSize || !ulong.IsPow2(size))
        {
            throw new ArgumentException($"An ECAM window of 0x{size:x} bytes is not 1 MiB per bus for a power of two of buses up to 256.", nameof(size));
        }

        if (EcamRegion is { } old)
        {
            _memory.Root.RemoveSubregion(old);
            EcamRegion = null;
        }

        if (baseAddress is { } at)
        {
            EcamRegion = MemoryRegion.CreateIo("pcie-mmcfg-mmio", size, new EcamOps(this), "pcie-host");
            _memory.Root.AddSubregion(at, EcamRegion);
        }
    }

    /// <summary>The function a configuration cycle for <paramref name="bus"/>/<paramref name="devFn"/> reaches, or null.</summary>
    public PciDevice? Find(int bus, int devFn) => Bus.FindBus(bus)?.Find(devFn);

    /// <summary>A configuration read as an ECAM cycle performs it: absent functions and bytes past the function's
    /// configuration space read all-ones (QEMU: pci_host_config_read_common with pci_config_size as the limit).</summary>
    /// <param name="bus">Bus number.</param>
    /// <param name="devFn">Device/function number.</param>
    /// <param name="offset">Register offset, 0..0xFFF.</param>
    /// <param name="size">1, 2 or 4.</param>
    public uint ReadConfig(int bus, int devFn, int offset, int size) => ReadConfig(bus, devFn, offset, size, PciConfig.ExpressSize);

    /// <summary>A configuration write as an ECAM cycle performs it; dropped for absent functions and offsets past their space.</summary>
    public void WriteConfig(int bus, int devFn, int offset, int size, uint value) => WriteConfig(bus, devFn, offset, size, value, PciConfig.ExpressSize);

    private uint ReadConfig(int bus, int devFn, int offset, int size, int limit)
    {
        uint allOnes = size == 4 ? uint.MaxValue : (1u << (size * 8)) - 1;
        // pci_host_config_read_common: a function without power answers like an absent one.
        if (Find(bus, devFn) is not { HasPower: true } device)
        {
            return allOnes;
        }

        limit = Math.Min(limit, device.ConfigSize);
        if (offset >= limit)
        {
            return allOnes;
        }

        // QEMU's pci_host_config_read_common clamps an access running past the end of config space.
        return device.ReadConfig(offset, Math.Min(size, limit - offset));
    }

    private void WriteConfig(int bus, int devFn, int offset, int size, uint value, int limit)
    {
        if (Find(bus, devFn) is not { HasPower: true } device)
        {
            return;
        }

        limit = Math.Min(limit, device.ConfigSize);
        if (offset >= limit)
        {
            return;
        }

        device.WriteConfig(offset, Math.Min(size, limit - offset), value);
    }

    /// <summary>
    /// The function and register the last CONFIG_DATA or ECAM access reached, decoded as it was dispatched; true once
    /// per such access (a CONFIG_DATA access with the enable bit clear performs no cycle). The run loop records them
    /// in the access's trace record, so nobody has to re-derive them from the CONFIG_ADDRESS writes.
    /// </summary>
    internal bool TakeCycle(out PciAddress function, out int register)
    {
        function = _cycleFunction;
        register = _cycleRegister;
        var pending = _cyclePending;
        _cyclePending = false;
        return pending;
    }

    private void Performed(PciAddress function, int register)
    {
        _cycleFunction = function;
        _cycleRegister = register;
        _cyclePending = true;
    }

    private static IEnumerable<PciDevice> DevicesOf(PciBus bus)
    {
        foreach (PciDevice device in bus.Devices)
        {
            yield return device;
            if (device is PciBridge bridge)
            {
                foreach (PciDevice behind in DevicesOf(bridge.Secondary))
                {
                    yield return behind;
                }
            }
        }
    }

    private sealed class ConfigAddressOps(PciHost host) : IMemoryRegionOps
    {
        public ulong Read(ulong offset, int size) => host.ConfigAddress;

        public void Write(ulong offset, int size, ulong value)
        {
            if (offset == 0 && size == 4)
            {
                host.ConfigAddress = (uint)value;
            }
        }
    }

    private sealed class ConfigDataOps(PciHost host) : IMemoryRegionOps
    {
        public ulong Read(ulong offset, int size)
        {
            uint address = host.ConfigAddress;
            if ((address & ConfigAddressEnable) == 0)
            {
                host._cyclePending = false;
                return uint.MaxValue;
            }

            PciAddress function = PciAddress.FromConfigAddress(address);
            int register = PciAddress.Conf1Register(address, offset);
            host.Performed(function, register);
            return host.ReadConfig(function.Bus, function.DevFn, register, size, PciConfig.Size);
        }

        public void Write(ulong offset, int size, ulong value)
        {
            uint address = host.ConfigAddress;
            if ((address & ConfigAddressEnable) == 0)
            {
                host._cyclePending = false;
                return;
            }

            PciAddress function = PciAddress.FromConfigAddress(address);
            int register = PciAddress.Conf1Register(address, offset);
            host.Performed(function, register);
            host.WriteConfig(function.Bus, function.DevFn, register, size, (uint)value, PciConfig.Size);
        }
    }

    private sealed class EcamOps(PciHost host) : IMemoryRegionOps
    {
        public ulong Read(ulong offset, int size)
        {
            PciAddress function = PciAddress.FromEcamOffset(offset);
            host.Performed(function, PciAddress.EcamRegister(offset));
            return host.ReadConfig(function.Bus, function.DevFn, PciAddress.EcamRegister(offset), size);
        }

        public void Write(ulong offset, int size, ulong value)
        {
            PciAddress function = PciAddress.FromEcamOffset(offset);
            host.Performed(function, PciAddress.EcamRegister(offset));
            host.WriteConfig(function.Bus, function.DevFn, PciAddress.EcamRegister(offset), size, (uint)value);
        }
    }
}
