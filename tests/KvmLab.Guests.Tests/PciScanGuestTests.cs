using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class PciScanGuestTests
{
    // Sizes from QEMU 7.2's sources: edu registers a 1 MiB BAR0; pci-testdev's regions are twice IOTEST_MEMSIZE
    // (2048) and twice IOTEST_IOSIZE (128), so a 4 KiB memory BAR0 and a 256-byte I/O BAR1.
    private static void AssertFindsEduAndTestdev(KvmLab.Qemu.QemuRunResult run)
    {
        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        var lines = run.SerialText.Split('\n');
        var edu = Array.FindIndex(lines, l => l.Contains(" 1234:11E8 class 00FF"));
        Assert.True(edu >= 0, run.ToString());
        Assert.Equal("  BAR0 mem32 size 0x00100000", lines[edu + 1]);
        var testdev = Array.FindIndex(lines, l => l.Contains(" 1B36:0005 class 00FF"));
        Assert.True(testdev >= 0, run.ToString());
        Assert.Equal("  BAR0 mem32 size 0x00001000", lines[testdev + 1]);
        Assert.Equal("  BAR1 io    size 0x00000100", lines[testdev + 2]);
        Assert.EndsWith(PciScanGuest.FinalLine + "\n", run.SerialText);
    }

    [QemuTheory]
    [InlineData(CpuMode.Real)]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Pci_scan_through_conf1_finds_edu_and_pci_testdev_with_their_bar_sizes(CpuMode mode)
    {
        var run = GuestQemu.Run(PciScanGuest.Build(mode, PciAccessMethod.Conf1));

        AssertFindsEduAndTestdev(run);
        Assert.Contains("00:00.0 8086:1237 class 060000 header 00\n", run.SerialText);
        Assert.Contains("00:01.0 8086:7000 class 060100 header 80\n", run.SerialText);
        Assert.Contains("00:01.1 8086:7010", run.SerialText);
        Assert.Contains("00:02.0 1234:11E8", run.SerialText);
    }

    [QemuTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Pci_scan_through_ecam_on_q35_finds_edu_and_pci_testdev_with_their_bar_sizes(CpuMode mode)
    {
        var run = GuestQemu.Run(PciScanGuest.Build(mode, PciAccessMethod.Ecam), machine: "q35");

        Assert.Contains("q35 host bridge: PCIEXBAR set to 0xB0000000", run.SerialText);
        Assert.Contains("00:00.0 8086:29C0", run.SerialText);
        AssertFindsEduAndTestdev(run);
    }
}
