using KvmLab.Memory;

namespace KvmLab.Pci.Q35;

/// <summary>
/// ICH9's SMBus controller at 00:1f.3, QEMU's "ICH9-SMB" (hw/i2c/smbus_ich9.c): 8086:2930, class 0x0c05, INTA#, multi-function as q35 creates it, with
/// QEMU 7.2's reset configuration space and masks (measured, tests/KvmLab.Tests/Pci/Reference).
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>0x20</term><description>BAR4, I/O, 64 bytes, "pm-smbus": the SMBus host registers</description></item>
/// <item><term>0x40</term><description>HOSTC: host enable 0, SMI enable 1, I2C enable 2, soft reset 3 (reads 0: the reset is done at once)</description></item>
/// </list>
/// The BAR is QEMU's, but what is behind it reads 0 and ignores writes: KvmLab has no SMBus host.
/// </remarks>
internal sealed class Ich9Smbus : PciDevice
{
    /// <summary>The SMBus controller's device ID.</summary>
    public const ushort DeviceIdSmbus = 0x2930;

    /// <summary>0x40: host configuration.</summary>
    public const int HostConfiguration = 0x40;

    /// <summary>HOSTC bit 3: soft SMBus reset, cleared as soon as it is done.</summary>
    public const byte HostConfigurationSoftReset = 0x08;

    private const int HostBar = 4;
    private const ulong HostSize = 0x40;

    /// <summary>Creates the function with its reset configuration space and its BAR.</summary>
    public Ich9Smbus()
        : base("ICH9-SMB", I440fxHostBridge.VendorIdIntel, DeviceIdSmbus, revision: 0x02, classCode: 0x0C05, interruptPin: 1, multiFunction: true)
    {
        Host = MemoryRegion.CreateIo("pm-smbus", HostSize, new UnimplementedBarOps(), Name);
        RegisterBar(HostBar, PciBarKind.Io, Host);
    }

    /// <summary>BAR4's region, "pm-smbus" (unimplemented: reads 0).</summary>
    public MemoryRegion Host { get; }

    /// <inheritdoc />
    public override void WriteConfig(int offset, int size, uint value)
    {
        base.WriteConfig(offset, size, value);

        // ich9_smbus_write_config: the soft reset completes within the write.
        if (offset <= HostConfiguration && HostConfiguration < offset + size)
        {
            SetConfig8(HostConfiguration, (byte)(Config[HostConfiguration] & ~HostConfigurationSoftReset));
        }
    }

    /// <inheritdoc />
    public override bool DeviceChangesConfigByte(int offset) => offset == HostConfiguration;
}
