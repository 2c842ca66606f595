using System.Diagnostics;

namespace KvmLab.Cli.Tests;

/// <summary>Runs the kvmlab command as a separate process, as a user's shell would, with stdout and stderr redirected.</summary>
internal static class Kvmlab
{
    private static readonly Lazy<string> Dll = new(FindDll);
    private static readonly Lazy<string> ProcessCache = new(() => Directory.CreateTempSubdirectory("kvmlab-cache-").FullName);

    /// <summary>Runs <c>kvmlab ARGS</c> in <paramref name="workingDirectory"/> and waits (generously) for it to end.</summary>
    public static ProcessResult RunIn(string? workingDirectory, params string[] args) => RunWith(workingDirectory, null, args);

    /// <summary>
    /// Runs kvmlab with extra environment variables. Every run gets a guest image cache of its own test process
    /// (KVMLAB_CACHE) unless the variables name one, so tests neither read nor fill the user's cache.
    /// </summary>
    public static ProcessResult RunWith(string? workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(Dll.Value);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["KVMLAB_CACHE"] = ProcessCache.Value;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = TestScale.Bound(TimeSpan.FromMinutes(2));
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kvmlab {string.Join(' ', args)} did not finish in {limit.TotalSeconds} s");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs kvmlab in a fresh temporary directory.</summary>
    public static ProcessResult Run(params string[] args) => RunIn(null, args);

    // The test project references the CLI, so its build output sits next to the tests; fall back to the CLI's own
    // output folder for a build that did not copy the runtime configuration.
    private static string FindDll()
    {
        var here = AppContext.BaseDirectory;
        var local = Path.Combine(here, "KvmLab.Cli.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(here, "KvmLab.Cli.runtimeconfig.json"))) return local;
        var configuration = new DirectoryInfo(here).Parent!.Name;
        for (var d = new DirectoryInfo(here); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "src", "KvmLab.Cli", "bin", configuration, "net10.0", "KvmLab.Cli.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"KvmLab.Cli.dll not found next to {here} or in src/KvmLab.Cli/bin/{configuration}");
    }
}

/// <summary>What a kvmlab process printed and returned.</summary>
internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>A temporary directory removed at dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("kvmlab-cli-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
