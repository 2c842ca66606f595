using System.Diagnostics;
using System.Globalization;
using KvmLab.Kvm;
using KvmLab.Loading;
using KvmHost = KvmLab.Kvm.Kvm;

namespace KvmLab.Cli.Bench;

/// <summary>The cost of one exit through KvmLab against a raw C KVM_RUN loop doing the same work.</summary>
/// <param name="Exits">Exits measured per round and variant (after a 10% warm-up); each figure is the best of the rounds.</param>
/// <param name="CPioNs">C loop, <c>out dx,al; jmp</c>: ns per exit.</param>
/// <param name="CSharpPioNs">Vcpu.Run() loop, same guest: ns per exit.</param>
/// <param name="CMmioNs">C loop, store to unbacked memory: ns per exit.</param>
/// <param name="CSharpMmioNs">Vcpu.Run() loop, same guest: ns per exit.</param>
/// <param name="AllocatedBytesPerExit">Managed bytes allocated per exit by the C# loops (goal: 0).</param>
internal sealed record ExitCostResult(long Exits, double CPioNs, double CSharpPioNs, double CMmioNs, double CSharpMmioNs, double AllocatedBytesPerExit)
{
    /// <summary>C# / C for port I/O exits (goal: at most 1.03).</summary>
    public double PioRatio => CSharpPioNs / CPioNs;

    /// <summary>C# / C for MMIO exits (goal: at most 1.03).</summary>
    public double MmioRatio => CSharpMmioNs / CMmioNs;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"PIO: C {CPioNs:F0} ns/exit, C# {CSharpPioNs:F0} ns/exit, ratio {PioRatio:F3}; " +
        $"MMIO: C {CMmioNs:F0} ns/exit, C# {CSharpMmioNs:F0} ns/exit, ratio {MmioRatio:F3}; " +
        $"{AllocatedBytesPerExit:F2} B/exit allocated (best of rounds of {Exits} exits)");
}

/// <summary>
/// Measures the exit cost of <see cref="Vcpu.Run"/> against <c>native/kvm_exit_loop.c</c> (compiled with gcc into
/// a temporary directory). Both run the same real-mode guests from the same addresses, check the exit reason and
/// read RIP from kvm_run's sync-regs area every exit. C and C# rounds alternate and each side keeps its fastest
/// round, so that load from other processes on a shared machine does not land on one side only.
/// </summary>
internal static class ExitCostBenchmark
{
    private const ulong RamSize = 0x20000;
    private const string NativeSourceResource = "kvm_exit_loop.c";

    // Same bytes as the C file: see its comments.
    private static readonly byte[] PioGuest = [0xBA, 0xF8, 0x03, 0xEE, 0xEB, 0xFD];
    private static readonly byte[] MmioGuest = [0xB8, 0x00, 0x20, 0x8E, 0xD8, 0xA2, 0x00, 0x00, 0xEB, 0xFB];

    /// <summary>Runs both variants in C and C#, <paramref name="exits"/> exits each, and returns the comparison.</summary>
    public static ExitCostResult Run(long exits = 100_000, int rounds = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exits, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        string dir = Directory.CreateTempSubdirectory("kvmlab-bench-").FullName;
        try
        {
            string binary = CompileNative(dir);
            double cPio = double.MaxValue, csPio = double.MaxValue, cMmio = double.MaxValue, csMmio = double.MaxValue;
            long allocated = 0;
            for (int round = 0; round < rounds; round++)
            {
                cPio = Math.Min(cPio, RunNative(binary, "pio", exits));
                var pio = RunManaged(PioGuest, ExitReason.Io, exits);
                csPio = Math.Min(csPio, pio.NsPerExit);
                cMmio = Math.Min(cMmio, RunNative(binary, "mmio", exits));
                var mmio = RunManaged(MmioGuest, ExitReason.Mmio, exits);
                csMmio = Math.Min(csMmio, mmio.NsPerExit);
                allocated += pio.AllocatedBytes + mmio.AllocatedBytes;
            }
            return new ExitCostResult(exits, cPio, csPio, cMmio, csMmio, allocated / (2.0 * rounds * exits));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (double NsPerExit, long AllocatedBytes) RunManaged(byte[] guest, ExitReason expected, long exits)
    {
        using var host = new KvmHost();
        using var vm = host.CreateVm();
        var ram = vm.AllocateGuestMemory(0, RamSize);
        var vcpu = vm.CreateVcpu(0);
        if (!vcpu.HasSyncRegs)
            throw new InvalidOperationException("KVM_CAP_SYNC_REGS is missing: the benchmark reads RIP from kvm_run's sync regs.");
        GuestLoader.Load(vm, ram, vcpu, new GuestImage("exit-loop", guest, PcLayout.DefaultRealModeLoadAddress,
            PcLayout.DefaultRealModeLoadAddress, CpuMode.Real));

        ulong checksum = Loop(vcpu, expected, exits / 10);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        checksum += Loop(vcpu, expected, exits);
        double elapsedNs = Stopwatch.GetElapsedTime(start).TotalNanoseconds;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        GC.KeepAlive(checksum);
        return (elapsedNs / exits, allocated);
    }

    private static ulong Loop(Vcpu vcpu, ExitReason expected, long exits)
    {
        ulong checksum = 0;
        for (long i = 0; i < exits; i++)
        {
            var exit = vcpu.Run();
            if (exit.Reason != expected)
                throw new InvalidOperationException($"The benchmark guest exited with {exit}, expected {expected}.");
            checksum += vcpu.Rip;
        }
        return checksum;
    }

    private static string CompileNative(string dir)
    {
        string source = Path.Combine(dir, NativeSourceResource);
        using (var resource = typeof(ExitCostBenchmark).Assembly.GetManifestResourceStream(NativeSourceResource)
            ?? throw new InvalidOperationException($"The embedded resource {NativeSourceResource} is missing."))
        using (var file = File.Create(source))
            resource.CopyTo(file);
        string binary = Path.Combine(dir, "kvm_exit_loop");
        Execute("gcc", ["-O2", "-o", binary, source]);
        return binary;
    }

    private static double RunNative(string binary, string variant, long exits)
    {
        string output = Execute(binary, [variant, exits.ToString(CultureInfo.InvariantCulture)]);
        foreach (string line in output.Split('\n'))
        {
            if (line.StartsWith("ns_per_exit ", StringComparison.Ordinal))
                return double.Parse(line["ns_per_exit ".Length..], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"{binary} {variant} printed no ns_per_exit line: {output}");
    }

    private static string Execute(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result}");
        return output;
    }
}
