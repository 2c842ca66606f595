using KvmLab.Devices;
using KvmLab.Memory;

namespace KvmLab.Pci;

/// <summary>
/// The PCI host: bus 0 with the i440FX host bridge at 00:00.0, configuration mechanism #1 at 0xCF8/0xCFC and an
/// ECAM window at <see cref="PcLayout.EcamBase"/>. Region names are QEMU's: "pci-conf-idx", "pci-conf-data"
/// (hw/pci/pci_host.c on the i440FX) and "pcie-mmcfg-mmio" (hw/pci/pcie_host.c).
/// </summary>
/// <remarks>
/// Measured on QEMU 7.2 (tests/KvmLab.Tests/Memory/QemuProbe): CONFIG_ADDRESS takes only dword writes at 0xCF8, and
/// a read of any size at 0xCF8..0xCFB returns the low bytes of the whole register, not shifted by the port offset.
/// CONFIG_DATA reads all-ones while the enable bit is clear; absent functions read all-ones.
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

    /// <summary>Creates the host, maps its configuration regions and attaches the host bridge at 00:00.0.</summary>
    public PciHost(AddressSpace memory, AddressSpace io, IInterruptSink interrupts, IGuestPhysicalMemory guestMemory)
    {
        Bus = new PciBus(memory, io, interrupts, guestMemory);
        ConfigAddressRegion = MemoryRegion.CreateIo("pci-conf-idx", 4, new ConfigAddressOps(this), "i440FX-pcihost", ConfigAddressRegisters);
        ConfigDataRegion = MemoryRegion.CreateIo("pci-conf-data", 4, new ConfigDataOps(this), "i440FX-pcihost", ConfigDataRegisters);
        EcamRegion = MemoryRegion.CreateIo("pcie-mmcfg-mmio", PcLayout.EcamSize, new EcamOps(this), "pcie-host");
        io.Root.AddSubregion(PcLayout.PciConfigAddressPort, ConfigAddressRegion);
        io.Root.AddSubregion(PcLayout.PciConfigDataPort, ConfigDataRegion);
        memory.Root.AddSubregion(PcLayout.EcamBase, EcamRegion);
        HostBridge = new I440fxHostBridge();
        Bus.Attach(HostBridge, PcLayout.HostBridgeSlot);
    }

    /// <summary>Bus 0.</summary>
    public PciBus Bus { get; }

    /// <summary>The host bridge function at 00:00.0.</summary>
    public I440fxHostBridge HostBridge { get; }

    /// <summary>The CONFIG_ADDRESS port region at 0xCF8.</summary>
    public MemoryRegion ConfigAddressRegion { get; }

    /// <summary>The CONFIG_DATA port region at 0xCFC..0xCFF.</summary>
    public MemoryRegion ConfigDataRegion { get; }

    /// <summary>The ECAM window region.</summary>
    public MemoryRegion EcamRegion { get; }

    /// <summary>The current CONFIG_ADDRESS value.</summary>
    public uint ConfigAddress { get; private set; }

    /// <summary>Plugs a device into bus 0 (see <see cref="PciBus.Attach"/>).</summary>
    public void Attach(PciDevice device, int slot, int function = 0, int irqLine = -1) => Bus.Attach(device, slot, function, irqLine);

    /// <summary>A configuration read as a mechanism-#1 or ECAM cycle performs it: absent functions read all-ones.</summary>
    /// <param name="bus">Bus number; only bus 0 is populated.</param>
    /// <param name="devFn">Device/function number.</param>
    /// <param name="offset">Register offset; offsets from 0x100 (extended space) read all-ones on these conventional functions.</param>
    /// <param name="size">1, 2 or 4.</param>
    public uint ReadConfig(int bus, int devFn, int offset, int size)
    {
        uint allOnes = size == 4 ? uint.MaxValue : (1u << (size * 8)) - 1;
        if (bus != 0 || Bus.Find(devFn) is not { } device || offset >= PciConfig.Size)
        {
            return allOnes;
        }

        // QEMU's pci_host_config_read_common clamps an access running past the end of config space.
        return device.ReadConfig(offset, Math.Min(size, PciConfig.Size - offset));
    }

    /// <summary>A configuration write; dropped for absent functions and extended-space offsets.</summary>
    public void WriteConfig(int bus, int devFn, int offset, int size, uint value)
    {
        if (bus != 0 || Bus.Find(devFn) is not { } device || offset >= PciConfig.Size)
        {
            return;
        }

        device.WriteConfig(offset, Math.Min(size, PciConfig.Size - offset), value);
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
                return uint.MaxValue;
            }

            // QEMU ORs the port's byte lane into the register number without clearing CONFIG_ADDRESS bits 1:0.
            uint register = (address | (uint)offset) & 0xFF;
            PciAddress function = PciAddress.FromConfigAddress(address);
            return host.ReadConfig(function.Bus, function.DevFn, (int)register, size);
        }

        public void Write(ulong offset, int size, ulong value)
        {
            uint address = host.ConfigAddress;
            if ((address & ConfigAddressEnable) == 0)
            {
                return;
            }

            uint register = (address | (uint)offset) & 0xFF;
            PciAddress function = PciAddress.FromConfigAddress(address);
            host.WriteConfig(function.Bus, function.DevFn, (int)register, size, (uint)value);
        }
    }

    private sealed class EcamOps(PciHost host) : IMemoryRegionOps
    {
        public ulong Read(ulong offset, int size) =>
            host.ReadConfig((int)(offset >> 20) & 0xFF, (int)(offset >> 12) & 0xFF, (int)(offset & 0xFFF), size);

        public void Write(ulong offset, int size, ulong value) =>
            host.WriteConfig((int)(offset >> 20) & 0xFF, (int)(offset >> 12) & 0xFF, (int)(offset & 0xFFF), size, (uint)value);
    }
}
