using System.Reflection;
using System.Runtime.InteropServices;
using KvmLab.Kvm;

namespace KvmLab.Interactive;

/// <summary>
/// What a chapter's numbers were measured on: the CPU, the kernel, the KVM backend behind /dev/kvm, KvmLab's version
/// and the .NET runtime. Numbers from a software backend (kvm_pvm) and from VMX/SVM are not comparable, so every
/// executed chapter starts with this.
/// </summary>
/// <param name="Cpu">/proc/cpuinfo's model name.</param>
/// <param name="Cores">Logical processors this process may use.</param>
/// <param name="Kernel">/proc/sys/kernel/osrelease.</param>
/// <param name="KvmBackend">The loaded KVM vendor module (kvm_intel, kvm_amd, kvm_pvm) or "unknown".</param>
/// <param name="KvmLab">KvmLab's informational version (with its commit where the build recorded one).</param>
/// <param name="Runtime">The .NET runtime.</param>
public sealed record MeasuredOn(string Cpu, int Cores, string Kernel, string KvmBackend, string KvmLab, string Runtime)
{
    /// <summary>This machine, now.</summary>
    public static MeasuredOn Current() => new(
        CpuModel(), Environment.ProcessorCount, FirstLine("/proc/sys/kernel/osrelease") ?? "unknown",
        KvmBackends.Current.ModuleName(),
        typeof(Machine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
        RuntimeInformation.FrameworkDescription);

    /// <summary>The description as a two-column table.</summary>
    public Table ToTable() => new[]
    {
        new { measured_on = "CPU", value = $"{Cpu} ({Cores} logical processors)" },
        new { measured_on = "kernel", value = $"Linux {Kernel}" },
        new { measured_on = "KVM backend", value = KvmBackend },
        new { measured_on = "KvmLab", value = KvmLab },
        new { measured_on = ".NET", value = Runtime },
    }.ToTable();

    /// <inheritdoc />
    public override string ToString() => $"measured on {Cpu} ({Cores} logical processors), Linux {Kernel}, KVM backend {KvmBackend}, KvmLab {KvmLab}, {Runtime}";

    private static string CpuModel()
    {
        if (File.Exists("/proc/cpuinfo"))
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var colon and > 0)
                    return line[(colon + 1)..].Trim();
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string? FirstLine(string path) => File.Exists(path) ? File.ReadLines(path).FirstOrDefault()?.Trim() : null;
}
