using KvmLab.Tracing;

namespace KvmLab.Charts.Tests;

public class PciConfigAccessesTests
{
    [Fact]
    public void EachAccessIsTheFunctionAndRegisterItsRecordCarries()
    {
        var t = new TraceBuilder()
            .Pio(true, 0xCF8, 4, 0x8001_130C)
            .Config(TraceAccess.PioRead, 0xCFC, 4, 0x1234_11e8, new KvmLab.Pci.PciAddress(1, 2, 3), 0x0C)
            .Config(TraceAccess.PioRead, 0xCFE, 1, 0x80, new KvmLab.Pci.PciAddress(1, 2, 3), 0x0E)
            .Config(TraceAccess.MmioWrite, PcLayout.EcamBase + (2UL << 15 | 0x04), 2, 0x0006, new KvmLab.Pci.PciAddress(0, 2, 0), 0x04);

        var accesses = PciConfigAccesses.From(t.Trace);

        Assert.Equal(3, accesses.Count);
        Assert.Equal(new PciConfigAccess(1, new KvmLab.Pci.PciAddress(1, 2, 3), 0x0C, 4, false, 0x1234_11e8, PciConfigMechanism.Conf1), accesses[0]);
        Assert.Equal(new PciConfigAccess(2, new KvmLab.Pci.PciAddress(1, 2, 3), 0x0E, 1, false, 0x80, PciConfigMechanism.Conf1), accesses[1]);
        Assert.Equal(new PciConfigAccess(3, new KvmLab.Pci.PciAddress(0, 2, 0), 0x04, 2, true, 0x0006, PciConfigMechanism.Ecam), accesses[2]);
        Assert.Equal("01:02.3", accesses[0].Function.ToString());
    }

    [Fact]
    public void AccessesThatReachedNoFunctionAreNotListedWhateverTheirPort()
    {
        // A data access with CONFIG_ADDRESS's enable bit clear performed no cycle: its record carries no target.
        var t = new TraceBuilder()
            .Pio(true, 0xCF8, 4, 0x0000_1000)
            .Pio(false, 0xCFC, 4, 0xFFFF_FFFF)
            .Mmio(false, PcLayout.EcamBase + 0x104, 4, 0);

        Assert.Empty(PciConfigAccesses.From(t.Trace));
    }

    [Fact]
    public void SampleBusScanProbesAllThirtyTwoSlotsOfBusZero()
    {
        var accesses = PciConfigAccesses.From(SampleTraces.BusScanAndEdu(400));

        var probedIds = accesses.Where(a => a is { Offset: 0, IsWrite: false, Mechanism: PciConfigMechanism.Conf1 }).Select(a => a.Function.Device);
        Assert.Equal(Enumerable.Range(0, 32), probedIds);
        Assert.Contains(accesses, a => a.Mechanism == PciConfigMechanism.Ecam && a.Function == new KvmLab.Pci.PciAddress(0, PcLayout.EduSlot, 0));
    }
}
