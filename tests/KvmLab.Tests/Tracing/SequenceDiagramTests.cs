using KvmLab.Kvm;
using KvmLab.Tracing;
using KvmLab.Tracing.Kernel;

namespace KvmLab.Tests.Tracing;

public sealed class SequenceDiagramTests
{
    private static ExitTrace ConfigReadAndEdu()
    {
        var trace = new ExitTrace("conf1 and edu");
        var host = trace.AddSource(new TraceRegion("i440FX-pcihost", "pci-conf-idx", "io", ["CONFIG_ADDRESS", "CONFIG_DATA"]));
        var edu = trace.AddSource(new TraceRegion("edu", "edu-mmio", "memory", ["identification", "factorial"]));
        trace.Add(new ExitRecord(1000, ExitReason.Io, TraceAccess.PioWrite, 0xCF8, 4, 0x80001000, 0x10020, ExitFlags.None, host, 0, 700, 300));
        trace.Add(new ExitRecord(2000, ExitReason.Io, TraceAccess.PioRead, 0xCFC, 4, 0x11E81234, 0x10026, ExitFlags.None, host, 1, 700, 300));
        trace.Add(new ExitRecord(3000, ExitReason.Mmio, TraceAccess.MmioRead, 0xE0000000, 4, 0x010000ED, 0x10030, ExitFlags.None, edu, 0, 700, 300));
        trace.Add(new ExitRecord(4000, ExitReason.Mmio, TraceAccess.MmioWrite, 0xE0000008, 4, 5, 0x10038, ExitFlags.None, edu, 1, 700, 300));
        trace.Add(new ExitRecord(5000, ExitReason.Mmio, TraceAccess.MmioRead, 0xFED00000, 1, 0xFF, 0x10040, ExitFlags.Unassigned, ExitRecord.None, ExitRecord.None, 700, 300));
        return trace;
    }

    [Fact]
    public void A_conf1_config_read_goes_guest_kvm_run_loop_io_space_host_bridge_and_back_with_its_registers_and_values()
    {
        var text = ConfigReadAndEdu().Slice(0, 2).ToMermaid().Text;

        Assert.StartsWith("sequenceDiagram\n", text);
        Assert.Contains("participant IO as io address space", text);
        Assert.Contains("participant D0 as i440FX-pcihost", text);
        Assert.DoesNotContain("MEM", text);
        Assert.Contains("G->>K: #35;0 OUT 4 bytes to port 0xcf8 = 0x80001000 (rip 0x10020)", text);
        Assert.Contains("K->>R: KVM_RUN returns KVM_EXIT_IO: io.direction OUT, port 0xcf8, size 4", text);
        Assert.Contains("IO->>D0: write CONFIG_ADDRESS = 0x80001000", text);
        Assert.Contains("IO->>D0: read CONFIG_DATA", text);
        Assert.Contains("D0-->>IO: 0x11e81234", text);
        Assert.Contains("K-->>G: the IN completes with 0x11e81234", text);
        // In order: the way there, then the way back.
        var lines = text.Split('\n').Select(l => l.Trim()).ToList();
        Assert.True(lines.IndexOf("IO->>D0: read CONFIG_DATA") < lines.IndexOf("D0-->>IO: 0x11e81234"));
        Assert.True(lines.FindIndex(l => l.StartsWith("K->>R", StringComparison.Ordinal)) < lines.FindIndex(l => l.StartsWith("R->>IO", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_mmio_read_names_the_exit_fields_the_register_and_an_unclaimed_address()
    {
        var text = ConfigReadAndEdu().Slice(2, 3).ToMermaid().Text;

        Assert.Contains("K->>R: KVM_RUN returns KVM_EXIT_MMIO: mmio.phys_addr 0xe0000000, len 4, is_write 0", text);
        Assert.Contains("MEM->>D0: read identification", text);
        Assert.Contains("D0-->>MEM: 0x010000ed", text);
        Assert.Contains("MEM->>D0: write factorial = 0x00000005", text);
        Assert.Contains("Note over MEM: no region claims 0xfed00000: the read returns 0xff", text);
        Assert.Contains("%% records 2..4 of trace 'conf1 and edu'", text);
    }

    [Fact]
    public void An_msi_is_drawn_from_the_device_through_kvm_to_the_guest_after_its_record()
    {
        // As the run loop records an MSI: a write of the data to the message address in the kvm-apic-msi region,
        // flagged Observed (no exit), from the device's own source.
        var trace = ConfigReadAndEdu();
        var msiSource = trace.AddSource(new TraceRegion("edu", global::KvmLab.Tracing.TraceRecorder.MsiRegion, "memory", ["vector 0"]));
        trace.Add(new ExitRecord(4500, ExitReason.Unknown, TraceAccess.MmioWrite, 0xFEE00000, 4, 0x40, 0x10038, ExitFlags.Observed, msiSource, 0, 0, 0));

        var text = trace.Slice(3, 3).ToMermaid().Text;

        var lines = text.Split('\n').Select(l => l.Trim()).ToList();
        var msi = lines.IndexOf("D0->>K: #35;5 MSI: KVM_SIGNAL_MSI address 0xfee00000 data 0x0040");
        Assert.True(msi > lines.IndexOf("MEM->>D0: write factorial = 0x00000005"), text);
        Assert.Equal("K->>G: vector 0x40 raised by the in-kernel local APIC", lines[msi + 1]);
        // Not drawn as a guest store: the guest wrote nothing there.
        Assert.DoesNotContain("0xfee00000 = ", text);
    }

    [Fact]
    public void With_kernel_events_an_exit_finished_inside_the_kernel_appears_before_the_one_that_returned()
    {
        var trace = ConfigReadAndEdu();
        const long epoch = 1_000_000_000;
        var events = new[]
        {
            new KernelTraceEvent(epoch + 1100, 0, 1, "kvm_exit", "vcpu 0 reason io rip 0x10022 info1 0x0000000000430010 info2 0x0"),
            new KernelTraceEvent(epoch + 1150, 0, 1, "kvm_pio", "pio_write at 0x43 size 1 count 1 val 0x34"),
            new KernelTraceEvent(epoch + 1200, 0, 1, "kvm_entry", "vcpu 0, rip 0x10024"),
            new KernelTraceEvent(epoch + 1800, 0, 1, "kvm_exit", "vcpu 0 reason io rip 0x10026 info1 0x0 info2 0x0"),
            new KernelTraceEvent(epoch + 1850, 0, 1, "kvm_pio", "pio_read at 0xcfc size 4 count 1 val 0x0"),
            new KernelTraceEvent(epoch + 1900, 0, 1, "kvm_userspace_exit", "reason KVM_EXIT_IO (2)"),
        };

        var text = trace.Slice(1, 1).ToMermaid(new SequenceDiagramOptions { KernelEvents = events, TraceEpochNanos = epoch }).Text;

        Assert.Contains("participant K as KVM (kernel, tracepoints)", text);
        var lines = text.Split('\n').Select(l => l.Trim()).ToList();
        var inside = lines.IndexOf("G->>K: kvm_exit reason io, kvm_pio: pio_write at 0x43 size 1 count 1 val 0x34");
        Assert.True(inside >= 0, text);
        Assert.Equal("K-->>G: finished inside the kernel, no return to KvmLab", lines[inside + 1]);
        Assert.Equal("Note over G,K: kernel: kvm_exit reason io, kvm_pio: pio_read at 0xcfc size 4 count 1 val 0x0, then kvm_userspace_exit", lines[inside + 2]);
        Assert.StartsWith("G->>K: #35;1 IN", lines[inside + 3]);
    }

    [Fact]
    public void Kernel_events_without_a_kvm_exit_are_noted_as_what_the_kernel_did_trace()
    {
        const long epoch = 5_000;
        var events = new[]
        {
            new KernelTraceEvent(epoch + 2100, 0, 1, "kvm_emulate_insn", "0:10030: 8b 00"),
            new KernelTraceEvent(epoch + 2200, 0, 1, "kvm_mmio", "mmio read len 4 gpa 0xe0000000 val 0x0"),
            new KernelTraceEvent(epoch + 2300, 0, 1, "kvm_userspace_exit", "reason KVM_EXIT_MMIO (6)"),
        };

        var text = ConfigReadAndEdu().Slice(2, 1).ToMermaid(new SequenceDiagramOptions { KernelEvents = events, TraceEpochNanos = epoch }).Text;

        Assert.Contains("Note over G,K: kernel, no kvm_exit traced: kvm_emulate_insn, kvm_mmio: mmio read len 4 gpa 0xe0000000 val 0x0, kvm_userspace_exit: reason KVM_EXIT_MMIO (6)", text);
    }

    [Fact]
    public void Mermaid_statement_characters_in_names_are_written_as_entity_codes()
    {
        var trace = new ExitTrace("a;b#c");
        var odd = trace.AddSource(new TraceRegion("dev;ice", "r", "io", ["reg#1"]));
        trace.Add(new ExitRecord(1, ExitReason.Io, TraceAccess.PioWrite, 0x80, 1, 1, 0, ExitFlags.None, odd, 0, 1, 1));

        var diagram = trace.First(10).ToMermaid();

        // Outside entity codes no line holds a ';' or '#' (the comment line starts with "%%", not affected).
        Assert.All(diagram.Text.Split('\n'), l => Assert.DoesNotMatch("[;#]", System.Text.RegularExpressions.Regex.Replace(l, "#[0-9]+;", "")));
        Assert.Contains("participant D0 as dev#59;ice", diagram.Text);
        Assert.Contains("write reg#35;1 = 0x01", diagram.Text);
        Assert.Equal("```mermaid\n" + diagram.Text + "```\n", diagram.ToMarkdown());
    }

    [Fact]
    public void A_slice_outside_the_trace_is_refused_and_first_takes_what_there_is()
    {
        var trace = ConfigReadAndEdu();

        Assert.Throws<ArgumentOutOfRangeException>(() => trace.Slice(4, 2));
        Assert.Equal(5, trace.First(100).Count);
        Assert.Equal(2, trace.SliceFrom(x => x.Device == "edu", 2).Start);
        Assert.Equal("identification", trace.Slice(2, 1)[0].Register);
    }
}
