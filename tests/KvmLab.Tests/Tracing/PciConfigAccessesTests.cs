using KvmLab.Kvm;
using KvmLab.Pci;
using KvmLab.Tracing;

namespace KvmLab.Tests.Tracing;

public class PciConfigAccessesTests
{
    /// <summary>A port or MMIO access record (no configuration target).</summary>
    private static ExitRecord Access(TraceAccess access, ulong address, int size, ulong value) =>
        new(0, access.IsPio() ? ExitReason.Io : ExitReason.Mmio, access, address, (byte)size, value, 0x10000, ExitFlags.None,
            ExitRecord.None, ExitRecord.None, 7000, 1000);

    /// <summary>A configuration access whose record carries the function and register the host reached.</summary>
    private static ExitRecord Config(TraceAccess access, ulong address, int size, ulong value, PciAddress function, int register) =>
        Access(access, address, size, value).WithConfigTarget(function, register);

    private static ExitTrace TraceOf(params ExitRecord[] records)
    {
        var trace = new ExitTrace("test");
        foreach (var record in records) trace.Add(record);
        return trace;
    }

    [Fact]
    public void EachAccessIsTheFunctionAndRegisterItsRecordCarries()
    {
        var trace = TraceOf(
            Access(TraceAccess.PioWrite, 0xCF8, 4, 0x8001_130C),
            Config(TraceAccess.PioRead, 0xCFC, 4, 0x1234_11e8, new PciAddress(1, 2, 3), 0x0C),
            Config(TraceAccess.PioRead, 0xCFE, 1, 0x80, new PciAddress(1, 2, 3), 0x0E),
            Config(TraceAccess.MmioWrite, PcLayout.EcamBase + (2UL << 15 | 0x04), 2, 0x0006, new PciAddress(0, 2, 0), 0x04));

        var accesses = PciConfigAccesses.From(trace);

        Assert.Equal(3, accesses.Count);
        Assert.Equal(new PciConfigAccess(1, new PciAddress(1, 2, 3), 0x0C, 4, false, 0x1234_11e8, PciConfigMechanism.Conf1), accesses[0]);
        Assert.Equal(new PciConfigAccess(2, new PciAddress(1, 2, 3), 0x0E, 1, false, 0x80, PciConfigMechanism.Conf1), accesses[1]);
        Assert.Equal(new PciConfigAccess(3, new PciAddress(0, 2, 0), 0x04, 2, true, 0x0006, PciConfigMechanism.Ecam), accesses[2]);
        Assert.Equal("01:02.3", accesses[0].Function.ToString());
    }

    [Fact]
    public void AccessesThatReachedNoFunctionAreNotListedWhateverTheirPort()
    {
        // A data access with CONFIG_ADDRESS's enable bit clear performed no cycle: its record carries no target.
        var trace = TraceOf(
            Access(TraceAccess.PioWrite, 0xCF8, 4, 0x0000_1000),
            Access(TraceAccess.PioRead, 0xCFC, 4, 0xFFFF_FFFF),
            Access(TraceAccess.MmioRead, PcLayout.EcamBase + 0x104, 4, 0));

        Assert.Empty(PciConfigAccesses.From(trace));
    }
}
