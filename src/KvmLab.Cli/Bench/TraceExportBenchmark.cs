using System.Diagnostics;
using KvmLab.Charts;
using KvmLab.Tracing;

namespace KvmLab.Cli.Bench;

/// <summary>Time and size of one export.</summary>
/// <param name="Format">csv, json or perfetto.</param>
/// <param name="Milliseconds">Time for <see cref="TraceExport.Save"/>, best of the rounds.</param>
/// <param name="Bytes">Size of the file written.</param>
internal sealed record ExportMeasurement(string Format, double Milliseconds, long Bytes);

/// <summary>The exports of one trace and what that trace occupies in memory.</summary>
/// <param name="Exports">One measurement per format.</param>
/// <param name="TraceBytesPerRecord"><see cref="Tracing.ExitTrace.AllocatedBytes"/> / records of the trace, grown record by record and trimmed at the end, as a run does.</param>
internal sealed record ExportResult(IReadOnlyList<ExportMeasurement> Exports, double TraceBytesPerRecord);

/// <summary>
/// Exports a large trace to every format. The trace is <see cref="SampleTraces.BusScanAndEdu"/>: bus scans, edu
/// sessions and serial output in the proportions the guests produce, with every device, region and register name
/// resolved, as a real run would leave it (a million real exits would take the benchmark several seconds to record).
/// </summary>
internal static class TraceExportBenchmark
{
    private static readonly (string Format, string FileName)[] Formats =
        [("csv", "trace.csv"), ("json", "trace.json"), ("perfetto", "trace.perfetto.json")];

    /// <summary>Exports a <paramref name="records"/>-record trace to each format, <paramref name="rounds"/> times.</summary>
    public static ExportResult Run(int records, int rounds = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(records, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var trace = SampleTraces.BusScanAndEdu(records);
        // As Machine.Run leaves a trace when the run ends.
        trace.TrimExcess();
        return new ExportResult(Measure(trace, rounds), (double)trace.AllocatedBytes / trace.Count);
    }

    /// <summary>Exports <paramref name="trace"/> (for example a real guest run's) to each format, <paramref name="rounds"/> times.</summary>
    public static IReadOnlyList<ExportMeasurement> Measure(Tracing.ExitTrace trace, int rounds = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var dir = Directory.CreateTempSubdirectory("kvmlab-bench-export-");
        try
        {
            // A small untimed export compiles the writers first.
            var small = SampleTraces.BusScanAndEdu(1000);
            foreach (var (_, file) in Formats) TraceExport.Save(small, Path.Combine(dir.FullName, file));
            var result = new List<ExportMeasurement>();
            foreach (var (format, file) in Formats)
            {
                var path = Path.Combine(dir.FullName, file);
                var best = new Samples();
                for (var round = 0; round < rounds; round++)
                {
                    var start = Stopwatch.GetTimestamp();
                    TraceExport.Save(trace, path);
                    best.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                result.Add(new ExportMeasurement(format, best.Best, new FileInfo(path).Length));
                File.Delete(path);
            }
            return result;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
