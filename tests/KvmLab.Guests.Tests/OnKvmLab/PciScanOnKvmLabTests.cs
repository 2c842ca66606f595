using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class PciScanOnKvmLabTests
{
    // KvmLab's bus 0 holds three single-function devices (host bridge, edu, pci-testdev): the scan reads 32 IDs,
    // class and header type of each present function, and sizes 6 BARs per type-0 header with 4 accesses each.
    private const int ConfigAccesses = 32 + 3 * 2 + 3 * 6 * 4;

    private static void AssertListing(GuestRun run, string name)
    {
        run.AssertSucceeded();
        var expected = $"""
            {name}: scanning bus 0 through {(name == "pci-scan" ? "conf1 (0xCF8/0xCFC)" : "ECAM at 0xB0000000")}
            00:00.0 8086:1237 class 060000 header 00
            00:02.0 1234:11E8 class 00FF00 header 00
              BAR0 mem32 size 0x00100000
            00:03.0 1B36:0005 class 00FF00 header 00
              BAR0 mem32 size 0x00001000
              BAR1 io    size 0x00000100
            {PciScanGuest.FinalLine}

            """;
        Assert.Equal(expected, run.Serial);
        run.AssertOnePollPerCharacter();
    }

    [KvmTheory]
    [InlineData(CpuMode.Real)]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Conf1_scan_sizes_edu_and_pci_testdev_bars_with_an_address_and_data_exit_per_access(CpuMode mode)
    {
        using var run = GuestRun.Of(PciScanGuest.Build(mode, PciAccessMethod.Conf1));

        AssertListing(run, "pci-scan");
        Assert.Equal(ConfigAccesses, run.Accesses("i440FX-pcihost.CONFIG_ADDRESS"));
        Assert.Equal(ConfigAccesses, run.Accesses("i440FX-pcihost.CONFIG_DATA"));
        Assert.Equal(0, run.Exits("MMIO"));
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Ecam_scan_sizes_the_same_bars_with_one_mmio_exit_per_access(CpuMode mode)
    {
        using var run = GuestRun.Of(PciScanGuest.Build(mode, PciAccessMethod.Ecam));

        AssertListing(run, "pci-scan-ecam");
        // One conf1 read of the host bridge's ID looks for q35; every other configuration access is ECAM MMIO.
        Assert.Equal(1, run.Accesses("i440FX-pcihost.CONFIG_ADDRESS"));
        Assert.Equal(1, run.Accesses("i440FX-pcihost.CONFIG_DATA"));
        Assert.Equal(ConfigAccesses, run.Exits("MMIO"));
        Assert.Equal(ConfigAccesses, run.Registers.Where(r => r.Key.StartsWith("pcie-host.", StringComparison.Ordinal)).Sum(r => r.Value));
    }
}
