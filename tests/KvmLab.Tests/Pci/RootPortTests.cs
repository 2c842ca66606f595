using KvmLab.Boards;
using KvmLab.Devices;
using KvmLab.Pci;

namespace KvmLab.Tests.Pci;

/// <summary>
/// The q35 root port rp1 (00:01.0) as a guest drives it, through conf1, ECAM and the address spaces only: bus numbers
/// decide which configuration cycles cross it, the windows and the command register decide which BARs behind it the
/// CPU reaches, and the slot's power controller decides whether the device behind answers at all.
/// </summary>
public sealed class RootPortTests
{
    private const int Port = 1 << 3;
    private const uint EduBar = 0xE000_0000;

    // The port's link has one device; the board's own (virtio-rng-rp1) makes room for the one under test.
    private static BoardBench WithBehindPort(string type, Func<BoardContext, PciDevice> create) =>
        new(Board.Q35.Without("virtio-rng-rp1").With(new BoardDevice(type, type + "2", 0, 0, create, Bus: "rp1")));

    private static BoardBench WithEduBehindPort() => WithBehindPort("edu", c => new Edu(c.Clock));

    private static void SetBusNumbers(BoardBench b, int secondary, int subordinate) =>
        b.Conf1Write(0, Port, PciBridge.PrimaryBus, (uint)((subordinate << 16) | (secondary << 8)));

    private static void SetMemoryWindow(BoardBench b, uint first, uint last) =>
        b.Conf1Write(0, Port, PciBridge.MemoryBase, ((last >> 16) & 0xFFF0) << 16 | ((first >> 16) & 0xFFF0));

    private static void SetPortCommand(BoardBench b, ushort command) => b.Conf1Write(0, Port, PciConfig.Command, command, 2);

    // Bus numbers 1/1, edu's BAR0 at 0xE0000000 with memory decoding on; the port's window and command left to the test.
    private static BoardBench EduMappedBehindPort()
    {
        var b = WithEduBehindPort();
        b.EnableEcam();
        SetBusNumbers(b, 1, 1);
        b.Conf1Write(1, 0, PciConfig.Bar0, EduBar);
        b.Conf1Write(1, 0, PciConfig.Command, PciConfig.CommandMemory, 2);
        return b;
    }

    private static bool EduReachable(BoardBench b) => b.MemoryRead(EduBar) == Edu.Identification;

    [Fact]
    public void ConfigCyclesToBus1ReachNothingUntilTheGuestProgramsTheBusNumbers()
    {
        var b = WithEduBehindPort();
        b.EnableEcam();
        Assert.Equal(uint.MaxValue, b.Conf1Read(1, 0, 0));
        Assert.Equal(uint.MaxValue, b.EcamRead(1, 0, 0));

        SetBusNumbers(b, 1, 1);
        Assert.Equal(0x11E8_1234u, b.Conf1Read(1, 0, 0));
        Assert.Equal(0x11E8_1234u, b.EcamRead(1, 0, 0));
        Assert.Equal(uint.MaxValue, b.Conf1Read(2, 0, 0));

        SetBusNumbers(b, 3, 5);
        Assert.Equal(uint.MaxValue, b.Conf1Read(1, 0, 0));
        Assert.Equal(0x11E8_1234u, b.Conf1Read(3, 0, 0));
    }

    [Fact]
    public void ABarBehindThePortIsReachableOnlyInsideTheMemoryWindowWithMemoryDecodingOn()
    {
        var b = EduMappedBehindPort();
        Assert.False(EduReachable(b)); // reset: the window is empty (base 0xfff00000 above limit 0)

        SetMemoryWindow(b, EduBar, EduBar + 0xF_FFFF);
        Assert.False(EduReachable(b)); // the port's command register still has memory decoding off

        SetPortCommand(b, PciConfig.CommandMemory);
        Assert.True(EduReachable(b));

        SetPortCommand(b, 0);
        Assert.False(EduReachable(b));
    }

    [Fact]
    public void MovingTheWindowOrTheBarMovesReachability()
    {
        var b = EduMappedBehindPort();
        SetPortCommand(b, PciConfig.CommandMemory);
        SetMemoryWindow(b, EduBar + 0x10_0000, EduBar + 0x1F_FFFF);
        Assert.False(EduReachable(b));

        b.Conf1Write(1, 0, PciConfig.Bar0, EduBar + 0x10_0000);
        Assert.Equal(Edu.Identification, b.MemoryRead(EduBar + 0x10_0000));

        SetMemoryWindow(b, EduBar, EduBar + 0xF_FFFF);
        Assert.NotEqual(Edu.Identification, b.MemoryRead(EduBar + 0x10_0000));
    }

    [Fact]
    public void ThePrefetchableWindowAlsoReachesTheSecondaryBus()
    {
        var b = EduMappedBehindPort();
        SetPortCommand(b, PciConfig.CommandMemory);
        b.Conf1Write(0, Port, PciBridge.PrefetchableBase, ((EduBar >> 16) & 0xFFF0) << 16 | ((EduBar >> 16) & 0xFFF0) | 0x0001_0001);
        b.Conf1Write(0, Port, PciBridge.PrefetchableBaseUpper32, 0);
        b.Conf1Write(0, Port, PciBridge.PrefetchableLimitUpper32, 0);
        Assert.True(EduReachable(b));
    }

    [Fact]
    public void AnIoBarBehindThePortIsReachableOnlyInsideTheIoWindowWithIoDecodingOn()
    {
        var b = WithBehindPort("pci-testdev", _ => new PciTestdev());
        SetBusNumbers(b, 1, 1);
        const uint ioBar = 0x2000;
        b.Conf1Write(1, 0, PciConfig.Bar0 + 4, ioBar);
        b.Conf1Write(1, 0, PciConfig.Command, PciConfig.CommandIo, 2);

        Assert.NotEqual("pci-testdev-portio", RegionAt(b, ioBar));
        b.Conf1Write(0, Port, PciBridge.IoBase, 0x20 | (0x20 << 8), 2); // window 0x2000..0x2fff
        Assert.NotEqual("pci-testdev-portio", RegionAt(b, ioBar));
        SetPortCommand(b, PciConfig.CommandIo);
        Assert.Equal("pci-testdev-portio", RegionAt(b, ioBar));

        b.Conf1Write(0, Port, PciBridge.IoBase, 0x30 | (0x30 << 8), 2);
        Assert.NotEqual("pci-testdev-portio", RegionAt(b, ioBar));
    }

    private static string? RegionAt(BoardBench b, ulong port) => b.Io.Read(port, 1, out _).Region?.Name;

    [Fact]
    public void Conf1ReachesTheFirst256BytesAndEcamAllFourKilobytes()
    {
        var b = new BoardBench(Board.Q35);
        b.EnableEcam();
        Assert.Equal(0x1482_0001u, b.EcamRead(0, Port, PcieRootPort.AerOffset));
        Assert.Equal(0x0001_000Du, b.EcamRead(0, Port, PcieRootPort.AcsOffset));

        // CONFIG_ADDRESS has no room for register bits 11:8: setting bits 27:24 still selects register 0.
        b.Io.Write(0xCF8, 4, 0x8000_0000u | Port << 8 | 0x0100_0000);
        b.Io.Read(0xCFC, 4, out ulong v);
        Assert.Equal(0x000C_1B36u, (uint)v);

        b.EcamWrite(0, Port, 0x200, 0x1234_5678);
        Assert.Equal(0x1234_5678u, b.EcamRead(0, Port, 0x200));
    }

    [Fact]
    public void TheSlotPowerControllerTakesTheDeviceBehindOffTheBusAndBack()
    {
        var b = EduMappedBehindPort();
        SetPortCommand(b, PciConfig.CommandMemory);
        SetMemoryWindow(b, EduBar, EduBar + 0xF_FFFF);
        int slotControl = PcieRootPort.ExpressOffset + PcieCapability.SlotControl;
        Assert.Equal(0x01C0u, b.Conf1Read(0, Port, slotControl, 2)); // populated at reset: power and its indicator on

        b.Conf1Write(0, Port, slotControl, 0x05C0, 2);
        Assert.Equal(uint.MaxValue, b.Conf1Read(1, 0, 0));
        Assert.False(EduReachable(b));
        Assert.Equal(PcieCapability.SlotStatusCommandCompleted, b.Conf1Read(0, Port, slotControl + 2, 2));

        b.Conf1Write(0, Port, slotControl, 0x01C0, 2);
        Assert.Equal(0x11E8_1234u, b.Conf1Read(1, 0, 0));
        Assert.True(EduReachable(b));
    }

    [Fact]
    public void ACommandCompletedEventRaisesTheHotPlugInterruptWhenEnabledAndClearingItLowersIt()
    {
        var b = new BoardBench(Board.Q35);
        var port = b.Wiring.Device<PcieRootPort>()!;
        int slotControl = PcieRootPort.ExpressOffset + PcieCapability.SlotControl;
        ushort enables = PcieCapability.SlotControlHotPlugInterruptEnable | PcieCapability.SlotControlCommandCompletedEnable;
        b.Conf1Write(0, Port, slotControl, (uint)(0x07C0 | enables), 2);
        Assert.True(port.IrqLevel);

        b.Conf1Write(0, Port, slotControl + 2, PcieCapability.SlotStatusCommandCompleted, 2);
        Assert.False(port.IrqLevel);
    }
}
