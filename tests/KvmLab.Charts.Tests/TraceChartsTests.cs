using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Charts.Tests;

public class TraceChartsTests
{
    private static (TraceBuilder Builder, ushort Edu, ushort Serial) SmallSession()
    {
        var b = new TraceBuilder();
        var edu = b.Source("edu", "edu-mmio", "memory", "ID", "LIVENESS", "FACTORIAL");
        var serial = b.Source("serial", "serial", "io", "RBR_THR", "IER");
        b.Mmio(false, 0xE000_0000, 4, 0x010000ed, edu, 0)
         .Mmio(true, 0xE000_0008, 4, 5, edu, 2)
         .Mmio(false, 0xE000_0008, 4, 120, edu, 2)
         .Pio(true, 0x3F8, 1, 'h', serial, 0)
         .Pio(true, 0x3F8, 1, 'i', serial, 0)
         .Pio(false, 0x3FC, 1, 0xFF)
         .Hlt();
        return (b, edu, serial);
    }

    [Fact]
    public void ExitReasonsCountsKvmExitsPerReasonLargestFirst()
    {
        var chart = TraceCharts.ExitReasons(SmallSession().Builder.Trace);

        Assert.Equal(ChartKind.Bar, chart.Kind);
        Assert.Equal(["IO", "MMIO", "HLT"], chart.Categories);
        Assert.Equal([3.0, 3.0, 1.0], Assert.Single(chart.Series).Y);
    }

    [Fact]
    public void ExitReasonsSkipsStringIoContinuations()
    {
        var b = new TraceBuilder();
        b.Pio(true, 0x3F8, 1, 'a');
        b.Trace.Add(new ExitRecord(9000, ExitReason.Io, TraceAccess.PioWrite, 0x3F8, 1, 'b', 0, ExitFlags.Continuation, ExitRecord.None, ExitRecord.None, 0, 10));

        Assert.Equal([1.0], Assert.Single(TraceCharts.ExitReasons(b.Trace).Series).Y);
    }

    [Fact]
    public void AccessesPerRegisterStacksReadsAndWritesPerDeviceRegister()
    {
        var chart = TraceCharts.AccessesPerRegister(SmallSession().Builder.Trace);

        Assert.True(chart.Stacked);
        Assert.Equal(["edu.FACTORIAL", "serial.RBR_THR", "(unassigned)", "edu.ID"], chart.Categories);
        Assert.Equal([1.0, 0, 1, 1], chart.Series.Single(s => s.Name == "reads").Y);
        Assert.Equal([1.0, 2, 0, 0], chart.Series.Single(s => s.Name == "writes").Y);
    }

    [Fact]
    public void AccessesPerRegisterCanShowOneDevice()
    {
        var chart = TraceCharts.AccessesPerRegister(SmallSession().Builder.Trace, "edu");

        Assert.Equal(["edu.FACTORIAL", "edu.ID"], chart.Categories);
        Assert.Contains("edu register", chart.Title);
    }

    [Fact]
    public void AccessesPerDeviceNamesUnclaimedAccessesUnassigned()
    {
        var chart = TraceCharts.AccessesPerDevice(SmallSession().Builder.Trace);

        Assert.Equal(["edu", "serial", "(unassigned)"], chart.Categories);
        Assert.Equal([3.0, 2, 1], chart.Series[0].Y.Zip(chart.Series[1].Y, (r, w) => r + w));
    }

    [Fact]
    public void SmallTimelinePlacesEveryExitOnTheRowOfItsTarget()
    {
        var chart = TraceCharts.Timeline(SmallSession().Builder.Trace);

        Assert.Equal(ChartKind.Markers, chart.Kind);
        Assert.Equal(["edu.ID", "edu.FACTORIAL", "serial.RBR_THR", "pio-read", "HLT"], chart.Categories);
        Assert.Equal(7, chart.Series.Sum(s => s.X.Count));
        var mmio = chart.Series.Single(s => s.Name == "MMIO");
        Assert.Equal([0.0, 1, 1], mmio.Y);
        Assert.Equal(0, mmio.X[0]);
    }

    [Fact]
    public void LargeTimelineIsAggregatedIntoBinsAndSaysSo()
    {
        var trace = SampleTraces.BusScanAndEdu(TraceCharts.TimelineMarkerLimit + 1000);

        var chart = TraceCharts.Timeline(trace, bins: 50);

        Assert.Equal(ChartKind.Line, chart.Kind);
        Assert.Contains("aggregated into 50 bins", chart.Title);
        Assert.All(chart.Series, s => Assert.Equal(50, s.Y.Count));
        Assert.Equal(trace.ExitCount, chart.Series.Sum(s => s.Y.Sum()));
    }

    [Fact]
    public void PciConfigMapCountsAccessesPerFunctionAndOffset()
    {
        var b = new TraceBuilder();
        var edu = new KvmLab.Pci.PciAddress(0, 2, 0);
        b.Pio(true, 0xCF8, 4, 0x8000_1000)
         .Config(TraceAccess.PioRead, 0xCFC, 4, 0x11e8_1234, edu, 0x00)
         .Config(TraceAccess.PioRead, 0xCFC, 4, 0x11e8_1234, edu, 0x00)
         .Pio(true, 0xCF8, 4, 0x8000_0000)
         .Config(TraceAccess.PioRead, 0xCFE, 2, 0x1237, new KvmLab.Pci.PciAddress(0, 0, 0), 0x02)
         .Config(TraceAccess.MmioRead, PcLayout.EcamBase + (2UL << 15 | 0x10), 4, 0xE000_0000, edu, 0x10);

        var chart = TraceCharts.PciConfigMap(b.Trace);

        var h = Assert.IsType<HeatmapData>(chart.Heatmap);
        Assert.Equal(["00:00.0", "00:02.0"], h.Rows);
        Assert.Equal(["0x00", "0x02", "0x10"], h.Columns);
        Assert.Equal(new double[,] { { 0, 1, 0 }, { 2, 0, 1 } }, h.Values);
        Assert.Contains("4 (3 conf1, 1 ECAM)", chart.Title);
    }

    [Fact]
    public void HandlerLatencyHistogramHoldsEveryExitOnce()
    {
        var b = new TraceBuilder();
        foreach (var ns in new long[] { 100, 105, 1000, 50_000 })
            b.Add(ExitReason.Io, TraceAccess.PioWrite, 0x3F8, 1, 0, ExitRecord.None, ExitRecord.None, ns);

        var chart = TraceCharts.HandlerLatency(b.Trace);

        var y = Assert.Single(chart.Series).Y;
        Assert.Equal(4, y.Sum());
        Assert.Equal(2, y[0]);
        Assert.Equal(1, y[^1]);
        Assert.Equal("91 ns", chart.Categories[0]);
        Assert.EndsWith("µs", chart.Categories[^1]);
    }

    [Fact]
    public void HandlerLatencyOfOneReasonCountsOnlyItsExits()
    {
        var b = new TraceBuilder();
        foreach (var ns in new long[] { 100, 105, 1000 })
            b.Add(ExitReason.Io, TraceAccess.PioWrite, 0xC000, 1, 0, ExitRecord.None, ExitRecord.None, ns);
        foreach (var ns in new long[] { 2000, 2100 })
            b.Add(ExitReason.Mmio, TraceAccess.MmioWrite, 0xE0000000, 1, 0, ExitRecord.None, ExitRecord.None, ns);

        var io = TraceCharts.HandlerLatency(b.Trace, ExitReason.Io);
        var mmio = TraceCharts.HandlerLatency(b.Trace, ExitReason.Mmio);

        Assert.Equal(3, Assert.Single(io.Series).Y.Sum());
        Assert.Equal(2, Assert.Single(mmio.Series).Y.Sum());
        Assert.StartsWith("KVM_EXIT_IO handling latency in user space (3 exits", io.Title);
        Assert.StartsWith("KVM_EXIT_MMIO handling latency in user space (2 exits", mmio.Title);
        Assert.Equal(5, Assert.Single(TraceCharts.HandlerLatency(b.Trace).Series).Y.Sum());
    }

    [Fact]
    public void AllChartsOfAnEmptyTraceCanBeDrawn()
    {
        foreach (var chart in TraceCharts.All(new ExitTrace("empty")))
        {
            Assert.Contains("<svg", chart.ToSvg(300, 200));
            Assert.Contains("\"data\"", chart.ToPlotlyJson());
        }
    }
}
