using System.Runtime.InteropServices;

namespace KvmLab.Cli.Bench;

/// <summary>The machine a benchmark ran on: numbers from a software KVM backend and from VMX/SVM are not comparable.</summary>
/// <param name="CpuModel">/proc/cpuinfo "model name".</param>
/// <param name="Cores">Logical processors this process may use.</param>
/// <param name="Kernel">/proc/sys/kernel/osrelease.</param>
/// <param name="KvmBackend">The loaded KVM vendor module (kvm_intel, kvm_amd, kvm_pvm, ...) or "unknown".</param>
/// <param name="Runtime">The .NET runtime that ran the benchmark.</param>
/// <param name="LoadAverage">/proc/loadavg's 1-minute figure, sampled when the description was taken.</param>
internal sealed record HostDescription(string CpuModel, int Cores, string Kernel, string KvmBackend, string Runtime, double? LoadAverage)
{
    private static readonly string[] KnownBackends = ["kvm_intel", "kvm_amd", "kvm_pvm", "kvm_hv", "kvm_arm"];

    /// <summary>Describes this machine now.</summary>
    public static HostDescription Current() => new(
        ReadCpuModel(), Environment.ProcessorCount, ReadFirstLine("/proc/sys/kernel/osrelease") ?? "unknown", ReadKvmBackend(),
        RuntimeInformation.FrameworkDescription, LoadAverageNow());

    /// <summary>The 1-minute load average, or null where /proc/loadavg is missing.</summary>
    public static double? LoadAverageNow()
    {
        var line = ReadFirstLine("/proc/loadavg");
        if (line is null) return null;
        var first = line.Split(' ')[0];
        return double.TryParse(first, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{CpuModel}, {Cores} cores, Linux {Kernel}, KVM backend {KvmBackend}, {Runtime}" + (LoadAverage is { } l ? $", load {l:F2}" : "");

    private static string ReadCpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var colon and > 0)
                    return line[(colon + 1)..].Trim();
        }
        catch (IOException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string ReadKvmBackend()
    {
        var found = KnownBackends.Where(m => Directory.Exists(Path.Combine("/sys/module", m))).ToArray();
        return found.Length == 0 ? "unknown" : string.Join("+", found);
    }

    private static string? ReadFirstLine(string path)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault()?.Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
