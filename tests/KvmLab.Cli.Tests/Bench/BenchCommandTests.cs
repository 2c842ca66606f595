using System.Text.Json;
using KvmLab.Cli;
using KvmLab.Qemu;
using KvmLab.Testing;

namespace KvmLab.Cli.Tests.Bench;

// The quick run measures process-wide things (GC heap growth per exit, wall-clock costs): alone, after the parallel
// tests, so that their machines and allocations do not land in its figures.
[Collection(ProcessWideCollection.Name)]
public sealed class BenchCommandTests
{
    private static readonly string[] RequiredFields =
    [
        "exit_ratio_pio", "exit_ratio_mmio", "alloc_bytes_per_exit", "trace_bytes_per_exit", "machine_create_dispose_ms",
        "start_to_halt_ratio_vs_qemu", "chart_1m_ms", "chart_1m_html_bytes",
        "exit_ns_pio_c_reference", "exit_ns_mmio_c_reference", "start_to_halt_qemu_ms", "machine", "figures",
        "exit_ns_pio_kernel_step", "exit_ns_mmio_kernel_step",
        "exit_overhead_ns_pio_machine_run", "exit_overhead_ns_pio_machine_step", "exit_overhead_ns_pio_vcpu",
        "exit_overhead_ns_mmio_machine_run_median", "exit_overhead_ns_mmio_machine_step_median", "exit_overhead_ns_mmio_vcpu_median",
        "overhead_ns_run_pio", "overhead_ns_run_mmio", "overhead_ns_step_pio", "overhead_ns_step_mmio", "overhead_ns_vcpu_pio", "overhead_ns_vcpu_mmio",
        "dispatch_ns_pio_write", "dispatch_ns_pio_read", "dispatch_ns_mmio_write", "dispatch_ns_mmio_read", "dispatch_alloc_bytes_max",
        "start_to_halt_ms", "start_to_halt_jit_ms", "qemu_microvm_start_to_halt_ms", "c_vmm_start_to_halt_ms",
        "start_to_halt_ratio_vs_qemu_microvm", "start_to_halt_ratio_vs_c_vmm", "start_to_halt_phases_ms",
    ];

    // One quick run (a few seconds) serves every test of the class.
    private static readonly Lazy<JsonElement> QuickRun = new(RunQuick);

    private static JsonElement RunQuick()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvmlab-bench-test-{Guid.NewGuid():N}.json");
        try
        {
            Assert.Equal(0, Program.Main(["bench", "--quick", "--json", path]));
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.Clone();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [KvmFact]
    public void QuickRunWritesEveryFieldWithSaneValues()
    {
        var root = QuickRun.Value;
        foreach (var field in RequiredFields)
            Assert.True(root.TryGetProperty(field, out _), $"missing field {field}");

        // Other load on the machine moves the ratios anywhere: only that both sides were measured is checked here.
        foreach (var ratio in new[] { "exit_ratio_pio", "exit_ratio_mmio", "exit_ratio_pio_vcpu", "exit_ratio_mmio_vcpu" })
            Assert.True(double.IsFinite(root.GetProperty(ratio).GetDouble()) && root.GetProperty(ratio).GetDouble() > 0, ratio);
        Assert.True(root.GetProperty("exit_ns_pio_c_reference").GetDouble() > 0);
        // The overhead over C is the difference of the two measured costs (it may be negative under noise).
        Assert.Equal(root.GetProperty("exit_ns_pio_machine_run").GetDouble() - root.GetProperty("exit_ns_pio_c_reference").GetDouble(),
            root.GetProperty("exit_overhead_ns_pio_machine_run").GetDouble(), 6);
        var overRun = root.GetProperty("figures").EnumerateArray().Single(f => f.GetProperty("figure").GetString() == "PIO exit via Machine.Run (tracing on), over C");
        Assert.Equal("<= 100 ns over", overRun.GetProperty("goal").GetString());
        Assert.Equal(root.GetProperty("exit_overhead_ns_pio_machine_run").GetDouble(), overRun.GetProperty("value").GetDouble(), 6);
        Assert.Equal(root.GetProperty("overhead_ns_run_pio").GetDouble(), overRun.GetProperty("value").GetDouble(), 6);
        Assert.Equal(root.GetProperty("exit_ns_mmio_machine_step").GetDouble() - root.GetProperty("exit_ns_mmio_c_reference").GetDouble(),
            root.GetProperty("overhead_ns_step_mmio").GetDouble(), 6);
        Assert.True(root.GetProperty("exit_ns_pio_kernel_step").GetDouble() > 0 && root.GetProperty("exit_ns_mmio_kernel_step").GetDouble() > 0);

        // The run loop promises not to allocate per exit once the trace is reserved.
        Assert.Equal(0, root.GetProperty("alloc_bytes_per_exit").GetDouble());
        // Live-heap growth per exit: 48 B records plus the chunk table; a few KB of objects that other code let go
        // between the two full collections may take a little off it in a short (quick) run.
        Assert.InRange(root.GetProperty("trace_bytes_per_exit").GetDouble(), 44, 48 * 2);
        Assert.True(root.GetProperty("machine_create_dispose_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("chart_1m_html_bytes").GetInt64() > 0);

        var qemuRatio = root.GetProperty("start_to_halt_ratio_vs_qemu");
        var microvmRatio = root.GetProperty("start_to_halt_ratio_vs_qemu_microvm");
        if (QemuRunner.TryFindQemu() is null)
        {
            Assert.Equal(JsonValueKind.Null, qemuRatio.ValueKind);
            Assert.Equal(JsonValueKind.Null, microvmRatio.ValueKind);
        }
        else
        {
            Assert.True(qemuRatio.GetDouble() > 0);
            // The goal's ratio is the fastest kvmlab build's time over QEMU -M microvm's, both measured in this run.
            Assert.Equal(root.GetProperty("start_to_halt_ms").GetDouble() / root.GetProperty("qemu_microvm_start_to_halt_ms").GetDouble(),
                microvmRatio.GetDouble(), 9);
        }
        // The C VMM is compiled with gcc in every run: the floor is measured, and the JIT build's phases are reported.
        Assert.True(root.GetProperty("c_vmm_start_to_halt_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("start_to_halt_phases_ms").GetProperty("jit").GetProperty("halt").GetDouble() > 0);

        var machine = root.GetProperty("machine");
        Assert.False(string.IsNullOrWhiteSpace(machine.GetProperty("cpu_model").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(machine.GetProperty("kernel").GetString()));
        Assert.NotEqual("unknown", machine.GetProperty("kvm_backend").GetString());
        Assert.True(root.GetProperty("figures").GetArrayLength() >= 10);
    }

    [KvmFact]
    public void QuickRunShowsIoEventFdAndCoalescedMmioSavingExitsButNotDeviceWrites()
    {
        var root = QuickRun.Value;
        var writes = root.GetProperty("offload_writes_per_bar").GetInt32();
        var offload = root.GetProperty("offload");
        var exits = offload.GetProperty("exits");
        var eventFd = offload.GetProperty("ioeventfd");
        var coalesced = offload.GetProperty("coalesced MMIO");

        // Every PIO and MMIO test write is an exit of its own without help.
        Assert.True(exits.GetProperty("exits").GetInt64() >= 2 * writes);
        Assert.Equal(writes, exits.GetProperty("device_mmio_writes").GetInt32());
        // With ioeventfds the kernel completes all of them: the device never sees one.
        Assert.Equal(2 * writes, eventFd.GetProperty("exits_saved").GetInt64());
        Assert.Equal(2 * writes, eventFd.GetProperty("eventfd_signals").GetInt64());
        Assert.Equal(0, eventFd.GetProperty("device_mmio_writes").GetInt32());
        // Coalesced MMIO saves MMIO exits only, and every write still reaches the device when replayed.
        Assert.InRange(coalesced.GetProperty("exits_saved").GetInt64(), 1, writes);
        Assert.Equal(writes, coalesced.GetProperty("device_mmio_writes").GetInt32());
    }

    [Fact]
    public void StrayArgumentIsAUsageError()
    {
        Assert.Equal(2, Program.Main(["bench", "now"]));
    }
}
