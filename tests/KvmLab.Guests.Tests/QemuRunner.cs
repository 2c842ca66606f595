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
            // For reproducing a run by hand: KVMLAB_KEEP_BIOS=/some/dir keeps a copy of each firmware image.
            if (Environment.GetEnvironmentVariable("KVMLAB_KEEP_BIOS") is { Length: > 0 } keep)
                File.Copy(bios, Path.Combine(keep, $"{image.Name}-{image.Mode}.bios"), overwrite: true);
            var run = RunOnce(bios, dir.FullName, machine, "kvm", timeout ?? TimeSpan.FromSeconds(20));
            // Fall back to the emulator when KVM refuses: QEMU cannot open it at all, or the backend stops the guest
            // with an internal error (kvm_pvm cannot emulate IRET in unpaged protected mode, for instance).
            var refused = run.ExitCode == 1 && run.Serial.Length == 0 && run.Stderr.Contains("kvm", StringComparison.OrdinalIgnoreCase);
            if (refused || run.Stderr.Contains(KvmInternalError, StringComparison.Ordinal))
                run = RunOnce(bios, dir.FullName, machine, "tcg", timeout ?? TimeSpan.FromSeconds(20)) with
                {
                    Accelerator = $"tcg (kvm refused: {FirstLine(run.Stderr, "kvm", "KVM")})",
                };
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
        var stderr = new System.Text.StringBuilder();
        var internalError = new ManualResetEventSlim();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (stderr)
                stderr.AppendLine(e.Data);
            if (e.Data.Contains(KvmInternalError, StringComparison.Ordinal))
                internalError.Set();
        };
        process.BeginErrorReadLine();
        _ = process.StandardOutput.ReadToEndAsync();
        // QEMU pauses the VM on a KVM internal error instead of exiting: stop it as soon as it says so.
        var deadline = DateTime.UtcNow + timeout;
        while (!process.WaitForExit(50))
        {
            if (internalError.IsSet || DateTime.UtcNow > deadline)
            {
                process.Kill();
                process.WaitForExit();
                if (internalError.IsSet)
                    break;
                var partial = File.Exists(serial) ? File.ReadAllText(serial) : "";
                throw new TimeoutException($"QEMU ({accel}) did not finish within {timeout.TotalSeconds} s; serial so far:\n{partial}");
            }
        }
        process.WaitForExit();
        var text = File.Exists(serial) ? File.ReadAllText(serial) : "";
        lock (stderr)
            return new QemuRun(process.ExitCode, text, accel, stderr.ToString());
    }

    private const string KvmInternalError = "KVM internal error";

    private static string FirstLine(string text, params string[] needles) =>
        text.Split('\n').FirstOrDefault(l => needles.Any(n => l.Contains(n, StringComparison.Ordinal)))?.Trim() ?? "";

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
