using KvmLab.Devices;
using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Tests.Tracing;

public sealed class TraceFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("kvmlab-tracefile-test-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static ExitRecord Pio(long i, ushort source) =>
        new(i * 100, ExitReason.Io, TraceAccess.PioWrite, 0x3f8, 1, (ulong)(i & 0xff), 0x10005, ExitFlags.None, source, 0, 50, 10 + i % 7);

    [Fact]
    public void Slices_drained_into_a_file_load_back_as_the_whole_run_with_sources_added_between_slices()
    {
        var live = new ExitTrace("run");
        var serial = live.AddSource(new TraceRegion("serial", "serial", "io", ["THR", "LSR"]));
        var whole = new ExitTrace("run");
        whole.AddSource(new TraceRegion("serial", "serial", "io", ["THR", "LSR"]));
        using (var writer = new TraceFileWriter(PathOf("run.kvmtrace"), "run"))
        {
            for (var i = 0; i < 20_000; i++)
            {
                live.Add(Pio(i, serial));
                whole.Add(Pio(i, serial));
            }
            writer.Drain(live);
            Assert.Empty(live);

            var edu = live.AddSource(new TraceRegion("edu", "edu-mmio", "memory", ["ID"]));
            whole.AddSource(new TraceRegion("edu", "edu-mmio", "memory", ["ID"]));
            var read = new ExitRecord(2_000_001, ExitReason.Mmio, TraceAccess.MmioRead, 0xe000_0000, 4, Edu.Identification, 0x100020,
                ExitFlags.Unassigned, edu, 0, 60, 20);
            live.Add(read);
            whole.Add(read);
            writer.Drain(live);
            Assert.Equal(20_001, writer.RecordsWritten);
        }

        var loaded = TraceFile.Load(PathOf("run.kvmtrace"));
        Assert.Equal("run", loaded.Name);
        Assert.Equal(whole.Count, loaded.Count);
        Assert.Equal(whole.Sources.Select(s => (s.Device, s.Region, s.AddressSpace, string.Join(",", s.Registers))),
            loaded.Sources.Select(s => (s.Device, s.Region, s.AddressSpace, string.Join(",", s.Registers))));
        for (var i = 0; i < whole.Count; i++) Assert.Equal(whole[i], loaded[i]);
        Assert.Equal("edu", loaded.Resolve(20_000).Device);
    }

    [Theory]
    [InlineData("out.csv")]
    [InlineData("out.json")]
    [InlineData("out.perfetto.json")]
    public void Conversion_writes_what_exporting_the_run_in_memory_writes(string name)
    {
        var trace = new ExitTrace("convert");
        var serial = trace.AddSource(new TraceRegion("serial", "serial", "io", ["THR"]));
        for (var i = 0; i < 100; i++) trace.Add(Pio(i, serial));
        TraceExport.Save(trace, PathOf("expected-" + name));
        using (var writer = new TraceFileWriter(PathOf("t.kvmtrace"), trace.Name)) writer.Drain(trace);

        TraceFile.Convert(PathOf("t.kvmtrace"), PathOf(name));

        Assert.Equal(File.ReadAllBytes(PathOf("expected-" + name)), File.ReadAllBytes(PathOf(name)));
    }

    [Fact]
    public void A_file_that_is_not_a_trace_or_was_cut_short_is_refused()
    {
        File.WriteAllText(PathOf("not.kvmtrace"), "hello, world");
        Assert.Throws<InvalidDataException>(() => TraceFile.Load(PathOf("not.kvmtrace")));

        var trace = new ExitTrace("cut");
        for (var i = 0; i < 10; i++) trace.Add(Pio(i, ExitRecord.None));
        using (var writer = new TraceFileWriter(PathOf("cut.kvmtrace"), "cut")) writer.Drain(trace);
        var bytes = File.ReadAllBytes(PathOf("cut.kvmtrace"));
        File.WriteAllBytes(PathOf("cut.kvmtrace"), bytes[..^10]);
        Assert.Throws<InvalidDataException>(() => TraceFile.Load(PathOf("cut.kvmtrace")));
    }
}
