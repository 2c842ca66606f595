using System.Diagnostics;

namespace KvmLab.Cli.Bench;

/// <summary>Starts helper processes (gcc, the C reference loop, kvmlab, QEMU) and times them.</summary>
internal static class ProcessRunner
{
    /// <summary>Runs <paramref name="file"/> to its end and returns its standard output; a non-zero exit code throws.</summary>
    public static string Execute(string file, IReadOnlyList<string> arguments)
    {
        var (exitCode, output, error, _) = Time(file, arguments, TimeSpan.FromMinutes(2));
        if (exitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {exitCode}: {error}");
        return output;
    }

    /// <summary>
    /// Runs <paramref name="file"/> and returns its exit code, output and wall time from just before the process is
    /// started to the moment its exit is observed. A process still running after <paramref name="timeout"/> is killed
    /// and reported as a failure.
    /// </summary>
    public static (int ExitCode, string Output, string Error, TimeSpan Elapsed) Time(string file, IReadOnlyList<string> arguments,
        TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        long started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} was still running after {timeout.TotalSeconds:F0} s and was killed.");
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result, elapsed);
    }
}
