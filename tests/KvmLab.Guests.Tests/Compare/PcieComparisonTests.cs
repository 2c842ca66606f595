using KvmLab.Loading;
using KvmLab.Qemu;

namespace KvmLab.Guests.Tests.Compare;

/// <summary>
/// The q35 board against QEMU 7.2 -M q35 with the same devices, and the pc board against -M pc: configuration space
/// byte for byte (config-dump) and the PCI Express scan line for line (pcie-scan).
/// </summary>
public class PcieComparisonTests
{
    private static QemuComparison Compare(GuestImage image, string board) =>
        QemuComparison.Run(image, GuestExport.ToQemuBios(image), new QemuComparisonOptions
        {
            Timeout = TestScale.Bound(TimeSpan.FromSeconds(20)),
            Machine = new MachineOptions { Board = KvmLab.Boards.Board.ByName(board) },
        });

    [CompareTheory]
    [InlineData("pc")]
    [InlineData("q35")]
    public void Every_configuration_byte_matches_qemu_or_has_a_reason(string board)
    {
        var c = Compare(ConfigDumpGuest.Build(CpuMode.Protected), board);
        Assert.Contains(ConfigDumpGuest.FinalLine, c.KvmLabSerial);
        Assert.Contains(ConfigDumpGuest.FinalLine, c.Qemu.SerialText);

        var bytes = ConfigSpaceComparison.Compare(c.KvmLabSerial, c.Qemu.SerialText, ConfigSpaceDifferenceReason.For(board));

        Assert.True(bytes.Unexplained.Count == 0, bytes.Describe());
        // The dump really covered the board: the host bridge and edu on both, and on q35 4 KiB of the root port.
        Assert.Contains("00:00.0 000:", c.Qemu.SerialText);
        Assert.Contains("00:02.0 000: 11E81234", c.KvmLabSerial);
        if (board == "q35") Assert.Contains("00:01.0 100:", c.KvmLabSerial);
    }

    // Protected mode, the guest's own: the scan's configuration accesses do not depend on the mode (long mode runs on
    // KvmLab in OnKvmLab.AllGuestsOnKvmLabTests).
    [CompareTheory]
    [InlineData(CpuMode.Protected)]
    public void Pcie_scan_prints_the_same_lines_as_under_qemu_q35(CpuMode mode)
    {
        var c = Compare(PcieScanGuest.Build(mode), "q35");

        Assert.Equal(c.Qemu.SerialText, c.KvmLabSerial);
        Assert.Contains("00:01.0 1B36:000C class 060400 header 01", c.KvmLabSerial);
        Assert.Contains("  bridge: bus numbers primary/secondary/subordinate = 010100", c.KvmLabSerial);
        Assert.EndsWith(PcieScanGuest.FinalLine + "\n", c.KvmLabSerial);
    }
}
