using System.Diagnostics;
using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

/// <summary>What one QEMU run of a guest produced.</summary>
public sealed record QemuRun(int ExitCode, string Serial, string Accelerator, string Stderr)
{
    public override string ToString() => $"exit {ExitCode} under {Accelerator}; serial:\n{Serial}\nstderr:\n{Stderr}";
}

/// <summary>Runs a guest image as QEMU 7.2's firmware on the pc machine with KvmLab's device set.</summary>
public static class QemuRunner
{
    public static bool Required => Environment.GetEnvironmentVariable("KVMLAB_REQUIRE_QEMU") == "1";

    public static string? Executable { get; } = Find();

    public static QemuRun Run(GuestImage image, string machine = "pc", TimeSpan? timeout = null)
    {
        if (Executable is null)
            throw new InvalidOperationException("qemu-system-x86_64 is not on PATH (KVMLAB_REQUIRE_QEMU=1 demands it).");
        var dir = Directory.CreateTempSubdirectory("kvmlab-qemu-");
        try
        {
            var bios = Path.Combine(dir.FullName, image.Name + ".bios");
            File.WriteAllBytes(bios, GuestExport.ToQemuBios(image));
            var run = RunOnce(bios, dir.FullName, machine, "kvm", timeout ?? TimeSpan.FromSeconds(60));
            // QEMU refuses -accel kvm outright (no /dev/kvm, no permission): fall back to the emulator.
            if (run.ExitCode == 1 && run.Serial.Length == 0 && run.Stderr.Contains("kvm", StringComparison.OrdinalIgnoreCase))
                run = RunOnce(bios, dir.FullName, machine, "tcg", timeout ?? TimeSpan.FromSeconds(60));
            return run;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static QemuRun RunOnce(string bios, string dir, string machine, string accel, TimeSpan timeout)
    {
        var serial = Path.Combine(dir, "serial-" + accel + ".txt");
        var psi = new ProcessStartInfo(Executable!)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in new[]
                 {
                     "-accel", accel, "-M", machine, "-nodefaults", "-m", "16", "-display", "none",
                     "-serial", "file:" + serial, "-no-reboot",
                     "-device", "isa-debug-exit,iobase=0x501,iosize=2",
                     "-device", "edu", "-device", "pci-testdev", "-bios", bios,
                 })
            psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill();
            process.WaitForExit();
            var partial = File.Exists(serial) ? File.ReadAllText(serial) : "";
            throw new TimeoutException($"QEMU ({accel}) did not finish within {timeout.TotalSeconds} s; serial so far:\n{partial}");
        }
        var text = File.Exists(serial) ? File.ReadAllText(serial) : "";
        return new QemuRun(process.ExitCode, text, accel, stderr.Result);
    }

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "qemu-system-x86_64");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
