using System.Text.Json;
using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Tests.Tracing;

public class TraceTests
{
    private static ExitTrace Sample(int n)
    {
        var t = new ExitTrace("sample");
        var edu = t.AddSource(new TraceRegion("edu", "edu-mmio", "memory", new[] { "ID", "LIVENESS", "FACTORIAL" }));
        var serial = t.AddSource(new TraceRegion("serial", "serial", "io", new[] { "THR", "LSR" }));
        for (var i = 0; i < n; i++)
        {
            t.Add(i % 3 == 2
                ? new ExitRecord(i * 100L, ExitReason.Io, TraceAccess.PioWrite, 0x3f8, 1, 'A', 0x10005, ExitFlags.None, serial, 0, 50, 10 + i % 7)
                : new ExitRecord(i * 100L, ExitReason.Mmio, TraceAccess.MmioRead, 0xe0000008, 4, (ulong)i, 0x100020, ExitFlags.None, edu, 2, 60, 20));
        }
        t.Add(new ExitRecord(n * 100L, ExitReason.Hlt, TraceAccess.None, 0, 0, 0, 0x100040, ExitFlags.None, ExitRecord.None, ExitRecord.None, 10, 1));
        return t;
    }

    [Fact]
    public void Record_is_48_bytes()
    {
        Assert.Equal(48, System.Runtime.CompilerServices.Unsafe.SizeOf<ExitRecord>());
        Assert.Equal(ExitRecord.SizeInBytes, System.Runtime.CompilerServices.Unsafe.SizeOf<ExitRecord>());
    }

    [Fact]
    public void Records_survive_chunk_boundaries_in_order()
    {
        var t = Sample(40_000);
        Assert.Equal(40_001, t.Count);
        for (var i = 0; i < 40_000; i += 997)
            Assert.Equal(i * 100L, t[i].TimestampNanos);
        Assert.Equal(ExitReason.Hlt, t[40_000].Reason);
        Assert.Throws<ArgumentOutOfRangeException>(() => t[40_001]);
    }

    [Fact]
    public void Appending_after_reserve_allocates_nothing()
    {
        var t = new ExitTrace();
        t.Reserve(100_000);
        var r = new ExitRecord(1, ExitReason.Io, TraceAccess.PioWrite, 0x3f8, 1, 0x41, 0x1000, ExitFlags.None, ExitRecord.None, ExitRecord.None, 1, 1);
        t.Add(r);
        // Three rounds, and the fewest bytes count: one round's runtime housekeeping (a tier-up, a GC) must not fail
        // the test, while an allocating Add would allocate in every round.
        var fewest = long.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            t.Clear();
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100_000; i++) t.Add(r);
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, fewest);
        Assert.Equal(100_000, t.Count);
    }

    [Fact]
    public void Equal_sources_are_registered_once()
    {
        var t = new ExitTrace();
        var a = t.AddSource(new TraceRegion("edu", "edu-mmio", "memory", new[] { "ID" }));
        var b = t.AddSource(new TraceRegion("edu", "edu-mmio", "memory", new[] { "ID" }));
        Assert.Equal(a, b);
        Assert.Single(t.Sources);
    }

    [Fact]
    public void Resolve_names_device_region_and_register()
    {
        var t = Sample(3);
        var e = t.Resolve(0);
        Assert.Equal("edu.FACTORIAL", e.Target);
        Assert.Equal("MMIO", e.ReasonName);
        Assert.Contains("0xe0000008", e.ToString());
        Assert.Equal("serial.THR", t.Resolve(2).Target);
    }

    [Fact]
    public void Continuations_are_accesses_but_not_exits()
    {
        var t = new ExitTrace();
        var r = new ExitRecord(1, ExitReason.Io, TraceAccess.PioWrite, 0x3f8, 1, 0x41, 0x1000, ExitFlags.None, ExitRecord.None, ExitRecord.None, 1, 1);
        var c = new ExitRecord(1, ExitReason.Io, TraceAccess.PioWrite, 0x3f8, 1, 0x42, 0x1000, ExitFlags.Continuation, ExitRecord.None, ExitRecord.None, 0, 1);
        t.Add(r); t.Add(c); t.Add(c);
        Assert.Equal(3, t.Count);
        Assert.Equal(1, t.ExitCount);
        var reasons = TraceStatistics.Compute(t, StatGrouping.Reason);
        Assert.Equal(1, Assert.Single(reasons).Count);
        Assert.Equal(3, Assert.Single(TraceStatistics.Compute(t, StatGrouping.Device)).Count);
    }

    [Fact]
    public void Statistics_count_percent_and_latency_by_reason_device_and_register()
    {
        var t = Sample(300);
        var byReason = TraceStatistics.Compute(t, StatGrouping.Reason);
        Assert.Equal(new[] { "MMIO", "IO", "HLT" }, byReason.Select(r => r.Key));
        Assert.Equal(200, byReason[0].Count);
        Assert.Equal(100, byReason[1].Count);
        Assert.Equal(100.0, byReason.Sum(r => r.Percent), 6);
        Assert.Equal(20, byReason[0].MinNanos);
        Assert.Equal(10, byReason[1].MinNanos);
        Assert.Equal(16, byReason[1].MaxNanos);
        var byRegister = TraceStatistics.Compute(t, StatGrouping.Register);
        Assert.Equal(new[] { "edu.FACTORIAL", "serial.THR" }, byRegister.Select(r => r.Key));
        Assert.True(byReason[0].RatePerSecond > 0);
    }

    [Fact]
    public void Csv_export_has_a_header_and_one_line_per_record()
    {
        var t = Sample(10);
        using var ms = new MemoryStream();
        TraceExport.Write(t, ms, TraceExport.Format.Csv);
        var lines = System.Text.Encoding.UTF8.GetString(ms.ToArray()).TrimEnd('\n').Split('\n');
        Assert.Equal(TraceExport.CsvHeader, lines[0]);
        Assert.Equal(12, lines.Length);
        Assert.Equal("0,0,MMIO,mmio-read,0xe0000008,4,0x0,0x100020,edu,edu-mmio,FACTORIAL,,60,20", lines[1]);
    }

    [Fact]
    public void Json_export_round_trips_through_a_json_parser()
    {
        var t = Sample(10);
        using var ms = new MemoryStream();
        TraceExport.Write(t, ms, TraceExport.Format.Json);
        using var doc = JsonDocument.Parse(ms.ToArray());
        var records = doc.RootElement.GetProperty("records");
        Assert.Equal(11, records.GetArrayLength());
        Assert.Equal("serial", records[2].GetProperty("device").GetString());
        Assert.Equal("0x41", records[2].GetProperty("value").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("sources").GetArrayLength());
    }

    [Fact]
    public void Chrome_trace_export_has_one_complete_event_per_record()
    {
        var t = Sample(10);
        using var ms = new MemoryStream();
        TraceExport.Write(t, ms, TraceExport.Format.ChromeTrace);
        using var doc = JsonDocument.Parse(ms.ToArray());
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().Where(e => e.GetProperty("ph").GetString() == "X").ToList();
        Assert.Equal(11, events.Count);
        Assert.Equal("edu.FACTORIAL", events[0].GetProperty("name").GetString());
        Assert.Equal("HLT", events[10].GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("t.csv", nameof(TraceExport.Format.Csv))]
    [InlineData("t.json", nameof(TraceExport.Format.Json))]
    [InlineData("t.perfetto.json", nameof(TraceExport.Format.ChromeTrace))]
    public void Format_follows_the_file_name(string name, string expected) => Assert.Equal(Enum.Parse<TraceExport.Format>(expected), TraceExport.FormatFor(name));

    [Fact]
    public void Unknown_extension_names_the_accepted_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => TraceExport.FormatFor("trace.txt"));
        Assert.Contains(".perfetto.json", e.Message);
    }

    [Fact]
    public void Trimmed_trace_costs_48_bytes_per_record_and_grows_again()
    {
        var t = Sample(40_000);
        Assert.True(t.AllocatedBytes > 48L * t.Count);
        t.TrimExcess();
        Assert.Equal(48L * t.Count, t.AllocatedBytes);
        Assert.Equal(ExitReason.Hlt, t[40_000].Reason);
        var r = new ExitRecord(7, ExitReason.Io, TraceAccess.PioWrite, 0x3f8, 1, 0x42, 0x1000, ExitFlags.None, ExitRecord.None, ExitRecord.None, 1, 1);
        for (var i = 0; i < 20_000; i++) t.Add(r);
        Assert.Equal(60_001, t.Count);
        Assert.Equal(ExitReason.Hlt, t[40_000].Reason);
        Assert.Equal(0x42UL, t[60_000].Value);
        Assert.Equal(0L, t[39_999].TimestampNanos - 39_999 * 100L);
    }
}
