using KvmLab.Tracing;

namespace KvmLab.Charts.Tests;

public class PciConfigAccessesTests
{
    private static uint Conf1Address(int bus, int dev, int fn, int reg) => 0x8000_0000u | (uint)bus << 16 | (uint)dev << 11 | (uint)fn << 8 | (uint)reg;

    [Fact]
    public void Conf1DataAccessUsesTheLatchedAddressAndTheDataPortByte()
    {
        var t = new TraceBuilder()
            .Pio(true, 0xCF8, 4, Conf1Address(1, 2, 3, 0x0C))
            .Pio(false, 0xCFC, 4, 0x1234_11e8)
            .Pio(false, 0xCFE, 1, 0x80)
            .Pio(true, 0xCFD, 2, 0x0006);

        var accesses = PciConfigAccesses.From(t.Trace);

        Assert.Equal(3, accesses.Count);
        Assert.All(accesses, a => Assert.Equal(new KvmLab.Pci.PciAddress(1, 2, 3), a.Function));
        Assert.Equal([0x0C, 0x0E, 0x0D], accesses.Select(a => a.Offset));
        Assert.Equal([1, 2, 3], accesses.Select(a => a.Sequence));
        Assert.Equal([false, false, true], accesses.Select(a => a.IsWrite));
        Assert.Equal(1, accesses[1].Size);
        Assert.All(accesses, a => Assert.Equal(PciConfigMechanism.Conf1, a.Mechanism));
        Assert.Equal("01:02.3", accesses[0].Function.ToString());
    }

    [Fact]
    public void Conf1DataAccessWithTheEnableBitClearReachesNoFunction()
    {
        var t = new TraceBuilder()
            .Pio(true, 0xCF8, 4, Conf1Address(0, 2, 0, 0) & 0x7FFF_FFFF)
            .Pio(false, 0xCFC, 4, 0xFFFF_FFFF);

        Assert.Empty(PciConfigAccesses.From(t.Trace));
    }

    [Fact]
    public void OnlyAFourByteWriteLatchesConfigAddress()
    {
        var t = new TraceBuilder()
            .Pio(true, 0xCF8, 4, Conf1Address(0, 2, 0, 0x10))
            .Pio(true, 0xCF8, 2, 0x1800)
            .Pio(false, 0xCF8, 4, Conf1Address(0, 2, 0, 0x10))
            .Pio(false, 0xCFC, 4, 0xE000_0000);

        var access = Assert.Single(PciConfigAccesses.From(t.Trace));
        Assert.Equal(new KvmLab.Pci.PciAddress(0, 2, 0), access.Function);
        Assert.Equal(0x10, access.Offset);
        Assert.Equal(3, access.Sequence);
    }

    [Fact]
    public void EcamAddressDecodesBusDeviceFunctionAndTwelveBitOffset()
    {
        var t = new TraceBuilder()
            .Mmio(false, PcLayout.EcamBase + (3UL << 20 | 31UL << 15 | 7UL << 12 | 0x104), 4, 0)
            .Mmio(true, PcLayout.EcamBase + (2UL << 15 | 0x04), 2, 0x0006)
            .Mmio(false, PcLayout.EcamBase + PcLayout.EcamSize, 4, 0)
            .Mmio(false, PcLayout.PciMmioWindowBase, 4, 0x010000ed);

        var accesses = PciConfigAccesses.From(t.Trace);

        Assert.Equal(2, accesses.Count);
        Assert.Equal(new PciConfigAccess(0, new KvmLab.Pci.PciAddress(3, 31, 7), 0x104, 4, false, 0, PciConfigMechanism.Ecam), accesses[0]);
        Assert.Equal(new PciConfigAccess(1, new KvmLab.Pci.PciAddress(0, 2, 0), 0x04, 2, true, 0x0006, PciConfigMechanism.Ecam), accesses[1]);
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
