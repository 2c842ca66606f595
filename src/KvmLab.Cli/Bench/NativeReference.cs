using System.Globalization;

namespace KvmLab.Cli.Bench;

/// <summary>
/// <c>native/kvm_exit_loop.c</c> compiled with gcc into a temporary directory: the C references the benchmarks
/// measure in the same run as KvmLab (an exit loop, and creating and disposing a VM as a Machine does).
/// </summary>
internal sealed class NativeReference : IDisposable
{
    private const string SourceResource = "kvm_exit_loop.c";
    private readonly string _dir;
    private readonly string _binary;

    private NativeReference(string dir, string binary)
    {
        _dir = dir;
        _binary = binary;
    }

    /// <summary>Writes the embedded C source out and compiles it with <c>gcc -O2</c>.</summary>
    public static NativeReference Build()
    {
        string dir = Directory.CreateTempSubdirectory("kvmlab-bench-").FullName;
        try
        {
            string source = Path.Combine(dir, SourceResource);
            using (var resource = typeof(NativeReference).Assembly.GetManifestResourceStream(SourceResource)
                ?? throw new InvalidOperationException($"The embedded resource {SourceResource} is missing."))
            using (var file = File.Create(source))
                resource.CopyTo(file);
            string binary = Path.Combine(dir, "kvm_exit_loop");
            try
            {
                ProcessRunner.Execute("gcc", ["-O2", "-o", binary, source]);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException($"cannot run gcc ({e.Message}): the C references are compiled in every run; install gcc", e);
            }
            return new NativeReference(dir, binary);
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>Nanoseconds per exit of the C loop; <paramref name="variant"/> is "pio" or "mmio".</summary>
    public double ExitNanoseconds(string variant, long exits) =>
        Query([variant, exits.ToString(CultureInfo.InvariantCulture)], "ns_per_exit ");

    /// <summary>
    /// Milliseconds for each of <paramref name="rounds"/> VM creates + disposes in C, with or without the in-kernel
    /// irqchip and PIT, all in one process after an untimed first one: warm, as KvmLab's figure is measured.
    /// </summary>
    public IReadOnlyList<double> CreateDisposeMilliseconds(bool irqchip, int rounds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        string[] arguments = ["create", irqchip ? "irqchip" : "noirqchip", rounds.ToString(CultureInfo.InvariantCulture)];
        var values = QueryAll(arguments, "ms_per_create ");
        if (values.Count != rounds)
            throw new InvalidOperationException($"{_binary} {string.Join(' ', arguments)} printed {values.Count} values instead of {rounds}");
        return values;
    }

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private double Query(string[] arguments, string prefix)
    {
        var values = QueryAll(arguments, prefix);
        return values.Count > 0
            ? values[0]
            : throw new InvalidOperationException($"{_binary} {string.Join(' ', arguments)} printed no '{prefix.Trim()}' line");
    }

    private List<double> QueryAll(string[] arguments, string prefix)
    {
        string output = ProcessRunner.Execute(_binary, arguments);
        var values = new List<double>();
        foreach (string line in output.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                values.Add(double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture));
        }
        return values;
    }
}
