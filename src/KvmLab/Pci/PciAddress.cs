namespace KvmLab.Pci;

/// <summary>A bus/device/function triple, printed as lspci does ("00:02.0").</summary>
/// <param name="Bus">Bus number 0..255.</param>
/// <param name="Device">Device (slot) number 0..31.</param>
/// <param name="Function">Function number 0..7.</param>
public readonly record struct PciAddress(int Bus, int Device, int Function) : IComparable<PciAddress>
{
    /// <summary>The device/function byte (slot &lt;&lt; 3 | function).</summary>
    public int DevFn => (Device << 3) | Function;

    /// <summary>The function a CONFIG_ADDRESS value (port 0xCF8) selects: bus 23:16, device 15:11, function 10:8.</summary>
    public static PciAddress FromConfigAddress(uint configAddress) =>
        new((int)(configAddress >> 16) & 0xFF, (int)(configAddress >> 11) & 0x1F, (int)(configAddress >> 8) & 0x7);

    /// <summary>The function an offset into the ECAM window addresses: bus 27:20, device 19:15, function 14:12.</summary>
    public static PciAddress FromEcamOffset(ulong offset) =>
        new((int)(offset >> 20) & 0xFF, (int)(offset >> 15) & 0x1F, (int)(offset >> 12) & 0x7);

    /// <summary>The register an offset into the ECAM window addresses: bits 11:0.</summary>
    public static int EcamRegister(ulong offset) => (int)(offset & 0xFFF);

    /// <summary>The register a CONFIG_DATA access reaches: CONFIG_ADDRESS bits 7:0 ORed with the data port's byte
    /// lane (QEMU ORs the lane in without clearing bits 1:0).</summary>
    public static int Conf1Register(uint configAddress, ulong dataPortOffset) => (int)((configAddress | (uint)dataPortOffset) & 0xFF);

    /// <summary>The ECAM offset of a register: bus 27:20, device 19:15, function 14:12, register 11:0.</summary>
    public ulong EcamOffset(int register) => ((ulong)Bus << 20) | ((ulong)DevFn << 12) | (uint)register;

    /// <summary>The CONFIG_ADDRESS value that selects a register of this function, enable bit set.</summary>
    public uint ConfigAddress(int register) => PciHost.ConfigAddressEnable | ((uint)Bus << 16) | ((uint)DevFn << 8) | ((uint)register & 0xFC);

    /// <inheritdoc />
    public int CompareTo(PciAddress other) => (Bus, Device, Function).CompareTo((other.Bus, other.Device, other.Function));

    /// <inheritdoc />
    public override string ToString() => $"{Bus:x2}:{Device:x2}.{Function:x}";
}
