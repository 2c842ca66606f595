using System.Diagnostics;
using System.Globalization;
using KvmLab.Charts;
using KvmLab.Loading;
using KvmLab.Tracing;

namespace KvmLab.Cli.Bench;

/// <summary>What a trace of real exits costs in memory, and what exporting and charting it costs.</summary>
/// <param name="Exits">KVM exits of the measured run.</param>
/// <param name="Records">Records it left in the trace.</param>
/// <param name="AllocatedBytesPerExit">Managed bytes the run allocated (<see cref="GC.GetAllocatedBytesForCurrentThread"/>), per exit.</param>
/// <param name="HeapBytesPerExit">Growth of the live GC heap across the run (full collections before and after), per exit.</param>
/// <param name="Exports">Exports of that trace.</param>
/// <param name="Charts">Charts of that trace.</param>
/// <param name="FileBytes">Size of the trace written as a .kvmtrace file.</param>
/// <param name="ConvertCsvMilliseconds">Converting that file to CSV (<see cref="TraceFile.Convert"/>).</param>
internal sealed record RealTraceResult(long Exits, int Records, double AllocatedBytesPerExit, double HeapBytesPerExit,
    IReadOnlyList<ExportMeasurement> Exports, IReadOnlyList<ChartMeasurement> Charts, long FileBytes, double ConvertCsvMilliseconds);

/// <summary>A long run streamed to a trace file.</summary>
/// <param name="Exits">KVM exits of the run.</param>
/// <param name="Records">Records written to the file.</param>
/// <param name="FileBytes">Size of the file.</param>
/// <param name="Seconds">Wall time of the run, writing included.</param>
/// <param name="RssBeforeKiB">Process RSS after the first slice (machine built, JIT done, slice reserved).</param>
/// <param name="RssPeakKiB">Largest RSS seen after any later slice.</param>
internal sealed record StreamResult(long Exits, long Records, long FileBytes, double Seconds, long RssBeforeKiB, long RssPeakKiB)
{
    /// <summary>RSS growth over the run in MiB.</summary>
    public double RssGrowthMiB => (RssPeakKiB - RssBeforeKiB) / 1024.0;
}

/// <summary>
/// Trace figures from real exits, not synthetic traces: a real-mode guest that loops over the four access kinds (a
/// CONFIG_ADDRESS write and a CONFIG_DATA read to the PCI host, an MMIO write and read past RAM) runs on a Machine with
/// tracing on. Its trace is measured in allocated bytes and live-heap growth per exit, exported, charted and written
/// to a .kvmtrace file; a second, long run streams its records to a file slice by slice with process RSS watched.
/// </summary>
internal static class RealTraceBenchmark
{
    private const ulong RamSize = 1UL << 20;
    private const int SliceRecords = 1 << 16;

    // mov dx,0xCF8 ; mov eax,0x80001000 ; out dx,eax     (CONFIG_ADDRESS: edu at 00:02.0, register 0)
    // mov dx,0xCFC ; in eax,dx                            (CONFIG_DATA: edu's vendor and device ID)
    // mov ax,0xFFFF ; mov ds,ax ; mov [0x10],al ; mov al,[0x10]   (0x100000, the first byte past 1 MiB of RAM)
    // jmp to the start
    private static readonly byte[] MixGuest =
    [
        0xBA, 0xF8, 0x0C, 0x66, 0xB8, 0x00, 0x10, 0x00, 0x80, 0x66, 0xEF,
        0xBA, 0xFC, 0x0C, 0x66, 0xED,
        0xB8, 0xFF, 0xFF, 0x8E, 0xD8, 0xA2, 0x10, 0x00, 0xA0, 0x10, 0x00,
        0xEB, 0xE3,
    ];

    /// <summary>Runs <paramref name="exits"/> real exits with the trace growing as it does by default, and measures that trace.</summary>
    public static RealTraceResult Measure(long exits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exits, 100);
        // A first machine compiles the run loop and the devices' paths, so the measured run allocates only what it keeps.
        using (var warm = Boot(0))
            Run(warm, Math.Min(exits, 20_000));

        using var machine = Boot(0);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var ran = Run(machine, exits);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        var trace = machine.Trace;
        var records = trace.Count;

        var exports = TraceExportBenchmark.Measure(trace);
        var charts = ChartBenchmark.Run(trace);
        var dir = Directory.CreateTempSubdirectory("kvmlab-bench-tracefile-");
        try
        {
            var file = Path.Combine(dir.FullName, "run.kvmtrace");
            long fileBytes;
            using (var writer = new TraceFileWriter(file, trace.Name))
            {
                writer.Drain(trace);
                fileBytes = writer.BytesWritten;
            }
            var start = Stopwatch.GetTimestamp();
            TraceFile.Convert(file, Path.Combine(dir.FullName, "run.csv"));
            var convertMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return new RealTraceResult(ran, records, (double)allocated / ran, (double)(heapAfter - heapBefore) / ran, exports, charts, fileBytes, convertMs);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Runs <paramref name="exits"/> real exits, draining the trace into a .kvmtrace file every 65,536 exits.</summary>
    public static StreamResult Stream(long exits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exits, 1);
        var dir = Directory.CreateTempSubdirectory("kvmlab-bench-stream-");
        try
        {
            using var machine = Boot(SliceRecords);
            using var writer = new TraceFileWriter(Path.Combine(dir.FullName, "long.kvmtrace"), machine.Trace.Name);
            var start = Stopwatch.GetTimestamp();
            var done = Run(machine, Math.Min(exits, SliceRecords));
            writer.Drain(machine.Trace);
            GC.Collect();
            var before = RssKiB();
            var peak = before;
            while (done < exits)
            {
                done += Run(machine, Math.Min(exits - done, SliceRecords));
                writer.Drain(machine.Trace);
                peak = Math.Max(peak, RssKiB());
            }
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return new StreamResult(done, writer.RecordsWritten, writer.BytesWritten, seconds, before, peak);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static Machine Boot(int traceCapacity)
    {
        var image = new GuestImage("exit-mix", MixGuest, PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real);
        return Machine.Boot(image, new MachineOptions { RamSize = RamSize, TraceCapacity = traceCapacity });
    }

    private static long Run(Machine machine, long exits)
    {
        var result = machine.Run(new RunOptions { MaxExits = exits, Timeout = TimeSpan.FromMinutes(10) });
        if (result.Reason != StopReason.ExitLimit)
            throw new InvalidOperationException($"The trace benchmark's guest stopped with {result.Reason} ({result.Detail}) instead of running {exits} exits.");
        return result.Exits;
    }

    /// <summary>VmRSS from /proc/self/status, in KiB.</summary>
    internal static long RssKiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var digits = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(digits, CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException("/proc/self/status has no VmRSS line");
    }
}
