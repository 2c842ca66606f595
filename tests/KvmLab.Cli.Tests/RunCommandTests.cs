using KvmLab.Testing;

namespace KvmLab.Cli.Tests;

public class RunCommandTests
{
    [KvmFact]
    public void A_library_guest_streams_serial_to_stdout_and_returns_qemus_debug_exit_status()
    {
        var r = Kvmlab.Run("run", "hello");
        Assert.True(r.ExitCode == 33, r.ToString());
        Assert.Contains("Hello from a KvmLab guest in real mode!", r.Stdout);
        Assert.DoesNotContain("kvmlab:", r.Stdout);
        Assert.Contains("IsaDebugExit status 33", r.Stderr);
        Assert.Contains("-> exit status 33", r.Stderr);
    }

    [KvmFact]
    public void Kernel_stats_put_the_vcpus_kernel_counters_beside_the_exits_kvmlab_handled()
    {
        var r = Kvmlab.Run("run", "in-kernel", "--kernel-stats");
        Assert.True(r.ExitCode == 33, r.ToString());
        Assert.Matches(@"kernel counters over the run \(kvm-\d+/vcpu-0, KVM_GET_STATS_FD, kvm_\w+\)", r.Stderr);
        Assert.Matches(@"\n  exits +\d+ +\d+ +(\d+|n/a)  every exit KVM took", r.Stderr);
        Assert.Matches(@"\n  io_exits +\d+ +36 ", r.Stderr); // 16 characters x 2 + 3 port 0x80 writes + debug-exit
        Assert.Matches(@"\n  mmio_exits +2 +2 +0 ", r.Stderr);
        Assert.Contains("insn_emulation", r.Stderr);
        Assert.DoesNotContain("kernel counters", r.Stdout);
    }

    [KvmFact]
    public void Kernel_trace_writes_the_kernels_events_beside_kvmlabs_exits_or_says_what_is_missing()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "run", "in-kernel", "--kernel-trace", "k.json");
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.True(r.ExitCode == 2, r.ToString());
            Assert.Contains("needs root", r.Stderr);
            return;
        }
        if (KvmLab.Tracing.Kernel.KernelTrace.FindTracefs() is null)
        {
            Assert.True(r.ExitCode == 3, r.ToString());
            Assert.Contains("tracefs is not mounted", r.Stderr);
            Assert.Contains("mount -t tracefs nodev /sys/kernel/tracing", r.Stderr);
            Assert.False(File.Exists(dir.File("k.json")));
            return;
        }
        Assert.True(r.ExitCode == 33, r.ToString());
        Assert.Matches(@"wrote \d+ kernel events \(\d+ kernel exits: \d+ finished in the kernel, \d+ returned to kvmlab\) to k.json", r.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("k.json")));
        var pit = json.RootElement.GetProperty("accesses").EnumerateArray().Single(e => e.GetProperty("address").GetString() == "0x43");
        Assert.Equal((10, 0, 10), (pit.GetProperty("kernel").GetInt32(), pit.GetProperty("kvmlab").GetInt32(), pit.GetProperty("inside").GetInt32()));
        Assert.Contains(json.RootElement.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("side").GetString() == "KvmLab");

        var p = Kvmlab.RunIn(dir.Path, "run", "in-kernel", "--kernel-trace", "k.perfetto.json");
        Assert.True(p.ExitCode == 33, p.ToString());
        Assert.Contains("to k.perfetto.json", p.Stderr);
        using var perfetto = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("k.perfetto.json")));
        var names = perfetto.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "M").Select(e => e.GetProperty("args").GetProperty("name").GetString()).ToList();
        Assert.Contains("KVM (kernel)", names);
        Assert.Contains("KvmLab (user space)", names);
        // KvmLab's track holds its exits (the kernel's exit slices depend on the backend: kvm_pvm traces no kvm_exit).
        Assert.Contains(perfetto.RootElement.GetProperty("traceEvents").EnumerateArray(),
            e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == 2 && e.GetProperty("cat").GetString() == "pio-write");
    }

    [KvmFact]
    public void Mermaid_writes_a_sequence_diagram_of_the_first_records_as_markdown()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "run", "pci-scan", "--mermaid", "scan.md", "--first", "4");
        Assert.True(r.ExitCode == 33, r.ToString());
        Assert.Contains("kvmlab: wrote a sequence diagram of records 0..3 to scan.md", r.Stderr);
        var md = File.ReadAllText(dir.File("scan.md"));
        Assert.StartsWith("```mermaid\nsequenceDiagram\n", md);
        Assert.Contains("participant IO as io address space", md);
        Assert.Contains("KVM_RUN returns KVM_EXIT_IO", md);
        Assert.Contains("#35;3 ", md);
        Assert.DoesNotContain("#35;4 ", md);
        Assert.EndsWith("```\n", md);
    }

    [Fact]
    public void First_without_mermaid_or_not_a_positive_number_is_refused()
    {
        var alone = Kvmlab.Run("run", "hello", "--first", "3");
        var zero = Kvmlab.Run("run", "hello", "--mermaid", "x.mmd", "--first", "0");
        Assert.True(alone.ExitCode == 2 && zero.ExitCode == 2, alone + "\n" + zero);
        Assert.Contains("--first needs --mermaid FILE", alone.Stderr);
        Assert.Contains("--first: expected a positive number of records, not '0'", zero.Stderr);
    }

    [Fact]
    public void A_kernel_trace_file_name_without_a_known_format_is_refused_before_the_guest_runs()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "run", "in-kernel", "--kernel-trace", "k.txt");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--kernel-trace: cannot tell the format from 'k.txt'", r.Stderr);
        Assert.Contains(".perfetto.json", r.Stderr);
        Assert.False(File.Exists(dir.File("k.txt")));
    }

    [KvmFact]
    public void A_flat_image_spinning_forever_times_out_with_124()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("spin.bin"), [0xEB, 0xFE]); // jmp $
        var r = Kvmlab.RunIn(dir.Path, "run", "spin.bin", "--timeout", "200ms");
        Assert.True(r.ExitCode == 124, r.ToString());
        Assert.Contains("spin.bin (real mode at 0x10000): Timeout", r.Stderr);
    }

    [KvmFact]
    public void A_triple_fault_exits_with_the_shutdown_code()
    {
        using var dir = new TempDir();
        // Protected mode at 0x100000: lidt [0x100009] loads a zero-limit IDT, then ud2 raises #UD, which cannot be
        // delivered, nor the #DF after it: a triple fault.
        byte[] code = [0x0F, 0x01, 0x1D, 0x09, 0x00, 0x10, 0x00, 0x0F, 0x0B, 0, 0, 0, 0, 0, 0];
        File.WriteAllBytes(dir.File("triple.bin"), code);
        var r = Kvmlab.RunIn(dir.Path, "run", "triple.bin", "--mode", "protected");
        Assert.True(r.ExitCode == 100, r.ToString());
        Assert.Contains("Shutdown", r.Stderr);
        Assert.Contains("triple fault", r.Stderr);
    }

    [KvmFact]
    public void Pci_scan_writes_its_config_map_chart_trace_and_stat_tables()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "run", "pci-scan", "--stats", "--chart", "pci-scan.html", "--trace", "pci-scan.csv");
        Assert.True(r.ExitCode == 33, r.ToString());
        Assert.Contains("00:02.0 1234:11E8", r.Stdout);
        foreach (var table in new[] { "KVM exits by reason", "accesses by device", "accesses by register" }) Assert.Contains(table, r.Stderr);
        Assert.Contains("i440FX-pcihost.CONFIG_DATA", r.Stderr);
        var html = File.ReadAllText(dir.File("pci-scan.html"));
        Assert.Contains("PCI configuration accesses", html);
        Assert.Contains("00:02.0", html);
        var csv = File.ReadAllLines(dir.File("pci-scan.csv"));
        Assert.StartsWith("seq,", csv[0]);
        Assert.True(csv.Length > 700, $"{csv.Length} lines");
    }

    [KvmFact]
    public void Svg_charts_of_several_kinds_go_to_one_file_each()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "run", "hello", "--chart", "c.svg", "--chart-kind", "exit-reasons,devices");
        Assert.True(r.ExitCode == 33, r.ToString());
        Assert.Contains("<svg", File.ReadAllText(dir.File("c-exit-reasons.svg")));
        Assert.True(File.Exists(dir.File("c-devices.svg")), r.ToString());
    }

    [KvmFact]
    public void The_exit_limit_ends_a_run_with_its_own_code()
    {
        var r = Kvmlab.Run("run", "pci-scan", "--max-exits", "10");
        Assert.True(r.ExitCode == 106, r.ToString());
        Assert.Contains("ExitLimit after 10 exits", r.Stderr);
    }

    [Fact]
    public void A_missing_image_is_a_usage_error_naming_the_guests()
    {
        var r = Kvmlab.Run("run", "no-such-image.bin");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("'no-such-image.bin' is neither a built-in guest nor an existing file", r.Stderr);
        Assert.Contains("pci-scan", r.Stderr);
    }

    [KvmFact]
    public void An_image_over_the_loader_area_is_refused_with_the_loaders_reason()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("low.bin"), [0xF4]);
        var r = Kvmlab.RunIn(dir.Path, "run", "low.bin", "--load-address", "0x2000");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("cannot load 'low.bin' at 0x2000", r.Stderr);
        Assert.Contains("loader area", r.Stderr);
    }

    [KvmFact]
    public void An_image_larger_than_ram_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("big.bin"), new byte[17 << 20]);
        var r = Kvmlab.RunIn(dir.Path, "run", "big.bin", "--mode", "protected");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("cannot load 'big.bin'", r.Stderr);
    }

    [Fact]
    public void Unknown_options_and_chart_formats_are_usage_errors()
    {
        var option = Kvmlab.Run("run", "hello", "--frobnicate");
        Assert.True(option.ExitCode == 2, option.ToString());
        Assert.Contains("unknown option '--frobnicate'", option.Stderr);
        var chart = Kvmlab.Run("run", "hello", "--chart", "x.pdf");
        Assert.True(chart.ExitCode == 2, chart.ToString());
        Assert.Contains(".html, .svg or .png", chart.Stderr);
        var kind = Kvmlab.Run("run", "hello", "--chart", "x.html", "--chart-kind", "pie");
        Assert.True(kind.ExitCode == 2, kind.ToString());
        Assert.Contains("unknown chart kind 'pie'", kind.Stderr);
    }
}
