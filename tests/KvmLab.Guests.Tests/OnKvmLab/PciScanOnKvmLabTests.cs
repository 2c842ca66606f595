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
            {name}: scanning bus 0 through conf1 (0xCF8/0xCFC)
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
    public void Ecam_scan_on_q35_sizes_the_same_bars_with_one_mmio_exit_per_access(CpuMode mode)
    {
        // The image names q35, the board with ECAM; the whole listing is checked line for line against QEMU -M q35
        // in Compare.PcieComparisonTests.
        using var run = GuestRun.Of(PciScanGuest.Build(mode, PciAccessMethod.Ecam));

        run.AssertSucceeded();
        Assert.Equal("q35", run.Machine.Board.Board.Name);
        Assert.Contains("pci-scan-ecam: q35 host bridge: PCIEXBAR set to 0xB0000000\n00:00.0 8086:29C0 class 060000 header 00\n", run.Serial);
        Assert.Contains("""
            00:02.0 1234:11E8 class 00FF00 header 00
              BAR0 mem32 size 0x00100000
            00:03.0 1B36:0005 class 00FF00 header 00
              BAR0 mem32 size 0x00001000
              BAR1 io    size 0x00000100
            """, run.Serial);
        // Conf1 only to look for q35 and to enable PCIEXBAR; every other configuration access is one ECAM MMIO exit.
        Assert.Equal(2, run.Accesses("q35-pcihost.CONFIG_ADDRESS"));
        Assert.Equal(2, run.Accesses("q35-pcihost.CONFIG_DATA"));
        Assert.True(run.Exits("MMIO") > 32);
        Assert.Equal(run.Exits("MMIO"), run.Registers.Where(r => r.Key.StartsWith("pcie-host.", StringComparison.Ordinal)).Sum(r => r.Value));
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Ecam_scan_on_pc_sees_phantom_functions_because_unassigned_memory_reads_zero(CpuMode mode)
    {
        // pc has no ECAM (as QEMU's i440FX): the window's addresses are unassigned memory, which reads 0 rather than
        // the all-ones an absent function returns, so every slot looks populated by a 0000:0000 function.
        using var run = GuestRun.Of(PciScanGuest.Build(mode, PciAccessMethod.Ecam), new MachineOptions());

        run.AssertSucceeded();
        Assert.DoesNotContain("PCIEXBAR", run.Serial);
        Assert.Contains("00:00.0 0000:0000 class 000000 header 00\n", run.Serial);
        Assert.Contains("00:1F.0 0000:0000 class 000000 header 00\n", run.Serial);
        var reads = Enumerable.Range(0, run.Machine.Trace.Count).Select(run.Machine.Trace.Resolve)
            .Where(r => r.Record.Access == KvmLab.Tracing.TraceAccess.MmioRead).ToList();
        Assert.NotEmpty(reads);
        Assert.All(reads, r => Assert.True(r.Record.Flags.HasFlag(KvmLab.Tracing.ExitFlags.Unassigned), r.ToString()));
    }
}
