using KvmLab.Tracing;

namespace KvmLab.Charts.Tests;

// PciConfigAccesses itself is tested in KvmLab.Tests (Tracing/PciConfigAccessesTests.cs); this checks that the
// charts' sample trace (internal to KvmLab.Charts) holds the bus scan it claims to.
public class SampleTracesTests
{
    [Fact]
    public void SampleBusScanProbesAllThirtyTwoSlotsOfBusZero()
    {
        var accesses = PciConfigAccesses.From(SampleTraces.BusScanAndEdu(400));

        var probedIds = accesses.Where(a => a is { Offset: 0, IsWrite: false, Mechanism: PciConfigMechanism.Conf1 }).Select(a => a.Function.Device);
        Assert.Equal(Enumerable.Range(0, 32), probedIds);
        Assert.Contains(accesses, a => a.Mechanism == PciConfigMechanism.Ecam && a.Function == new KvmLab.Pci.PciAddress(0, PcLayout.EduSlot, 0));
    }
}
