using System.Diagnostics;
using System.Globalization;

namespace KvmLab.Cli;

/// <summary>
/// Where a <c>kvmlab run</c> process spends its time from launch to exit, for <c>kvmlab bench</c>'s start-up breakdown.
/// The launcher puts its <see cref="Stopwatch.GetTimestamp"/> (CLOCK_MONOTONIC nanoseconds on Linux, the same clock in
/// every process) into <see cref="Variable"/> just before it starts the process; each <see cref="Mark"/> is then
/// milliseconds since launch, and <see cref="Report"/> prints them on one line. Without the variable nothing is recorded.
/// </summary>
internal static class StartupProfile
{
    /// <summary>The environment variable that carries the launch timestamp.</summary>
    public const string Variable = "KVMLAB_STARTUP_PROFILE";

    /// <summary>What <see cref="Report"/>'s line starts with.</summary>
    public const string Prefix = "startup-profile:";

    private static readonly long? Launched =
        long.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null;

    private static readonly List<(string Phase, long At)> Marks = [];

    /// <summary>Records that <paramref name="phase"/> ended now.</summary>
    public static void Mark(string phase)
    {
        if (Launched is not null) Marks.Add((phase, Stopwatch.GetTimestamp()));
    }

    /// <summary>Prints <c>startup-profile: phase=ms ...</c> (milliseconds since launch) when profiling.</summary>
    public static void Report(TextWriter writer)
    {
        if (Launched is not { } launched) return;
        var parts = Marks.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Phase}={(m.At - launched) * 1000.0 / Stopwatch.Frequency:F3}"));
        writer.WriteLine($"{Prefix} {string.Join(' ', parts)}");
    }

    /// <summary>The phases of a <see cref="Report"/> line, in order, or null when <paramref name="output"/> has none.</summary>
    public static IReadOnlyList<(string Phase, double Milliseconds)>? Parse(string output)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        if (line is null) return null;
        return line[Prefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('='))
            .Select(kv => (kv[0], double.Parse(kv[1], CultureInfo.InvariantCulture)))
            .ToList();
    }
}
