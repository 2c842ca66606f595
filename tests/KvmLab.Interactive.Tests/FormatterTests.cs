using KvmLab.Charts;
using KvmLab.Guests;
using KvmLab.Kvm;
using KvmLab.Testing;
using KvmLab.Tracing;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Tests;

public class FormatterTests : IDisposable
{
    public FormatterTests() => Formatter.ResetToDefault();

    public void Dispose() => Formatter.ResetToDefault();

    [Fact]
    public void FirstDisplayOfATraceRegistersKvmLabFormattersWithoutTheExtension()
    {
        Assert.False(KvmLabFormatters.AreRegistered);

        var html = SampleTraces.BusScanAndEdu(50).ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("class=\"kvmlab-trace\"", html);
        Assert.Contains("first 20 of 50 records", html);
        Assert.True(KvmLabFormatters.AreRegistered);
    }

    [Fact]
    public void ResolvedExitShowsAddressesInHex()
    {
        var trace = SampleTraces.BusScanAndEdu(50);

        var html = trace.Resolve(0).ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("0x0cf8", html);
        Assert.Contains("pci-host.CONFIG_ADDRESS", html);
    }

    [Fact]
    public void ListOfExitsIsOneTableWithARowPerExit()
    {
        KvmLabFormatters.Register();
        var trace = SampleTraces.BusScanAndEdu(50);

        var html = Enumerable.Range(0, 3).Select(trace.Resolve).ToList().ToDisplayString(HtmlFormatter.MimeType);

        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(html, "<table"));
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(html, "<tr><td"));
        Assert.Contains("pci-host.CONFIG_ADDRESS", html);
        Assert.DoesNotContain("<i>index</i>", html);
    }

    [Fact]
    public void StatisticsListIsAKvmStatTable()
    {
        KvmLabFormatters.Register();

        var html = TraceStatistics.Compute(SampleTraces.BusScanAndEdu(200), StatGrouping.Reason).ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("<th style=\"text-align:right\">avg round trip ns</th>", html);
        Assert.Contains("<td style=\"font-family:monospace;text-align:left\">MMIO</td>", html);
        // Counts and nanoseconds are right-aligned so their digits line up under each other.
        Assert.Matches("<td style=\"font-family:monospace;text-align:left\">MMIO</td><td style=\"font-family:monospace;text-align:right\">[0-9,]+</td>", html);
    }

    [Fact]
    public void OnlyTheFirstChartOfASessionCarriesPlotlyJs()
    {
        KvmLabFormatters.Register();
        var chart = TraceCharts.ExitReasons(SampleTraces.BusScanAndEdu(100));

        var first = chart.ToDisplayString(HtmlFormatter.MimeType);
        var second = chart.ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("DecompressionStream", first);
        Assert.DoesNotContain("DecompressionStream", second);
        Assert.Contains("newPlot", second);
    }

    [Fact]
    public void AChartIsDisplayedWithAStaticSvgAndATableWithText()
    {
        KvmLabFormatters.Register();
        var chart = TraceCharts.ExitReasons(SampleTraces.BusScanAndEdu(100));
        var table = new[] { new { reason = "IO", exits = 3 } }.ToTable();

        Assert.Equal([HtmlFormatter.MimeType, "image/svg+xml", PlainTextFormatter.MimeType], Formatter.GetPreferredMimeTypesFor(typeof(TraceChart)));
        Assert.Equal([HtmlFormatter.MimeType, PlainTextFormatter.MimeType], Formatter.GetPreferredMimeTypesFor(typeof(Table)));
        Assert.StartsWith("<?xml", chart.ToDisplayString("image/svg+xml"));
        Assert.Contains("KVM exits by reason", chart.ToDisplayString("image/svg+xml"));
        Assert.Contains("KVM exits by reason", chart.ToDisplayString(PlainTextFormatter.MimeType));
        Assert.Matches("reason +exits", table.ToDisplayString(PlainTextFormatter.MimeType));
    }

    [Fact]
    public void ASequenceDiagramIsDisplayedAsAMermaidBlockAndItsSource()
    {
        KvmLabFormatters.Register();
        var diagram = SampleTraces.BusScanAndEdu(20).First(3).ToMermaid();

        Assert.Equal(["text/markdown", PlainTextFormatter.MimeType], Formatter.GetPreferredMimeTypesFor(typeof(SequenceDiagram)));
        Assert.StartsWith("```mermaid\nsequenceDiagram\n", diagram.ToDisplayString("text/markdown"));
        Assert.StartsWith("sequenceDiagram\n", diagram.ToDisplayString(PlainTextFormatter.MimeType));
    }

    [Fact]
    public void EveryFormatterClassIsFoundAndRegistered()
    {
        KvmLabFormatters.Register();

        var registered = Formatter.RegisteredFormatters(includeDefaults: false).OfType<KvmLabFormatter>().Select(f => f.GetType()).ToHashSet();

        var declared = typeof(KvmLabFormatter).Assembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(typeof(KvmLabFormatter)));
        Assert.NotEmpty(declared);
        Assert.All(declared, t => Assert.Contains(t, registered));
    }

    [Fact]
    public void MemoryDumpDisplaysAsHexWithAddressesAndRegistersFormattersOnFirstUse()
    {
        var bytes = "Hello, edu!\0\x01\x02\x03\x04\x05\x06"u8.ToArray();

        var html = new MemoryDump(0x10000, bytes).ToDisplayString(HtmlFormatter.MimeType);

        Assert.True(KvmLabFormatters.AreRegistered);
        Assert.Contains("class=\"kvmlab-hexdump\"", html);
        Assert.Contains("0x00010000  48 65 6c 6c 6f 2c 20 65  64 75 21 00 01 02 03 04  Hello, edu!.....", html);
        Assert.Contains("0x00010010  05 06", html);
    }

    [Fact]
    public void RegistersShowEveryGeneralPurposeRegisterIn64BitHex()
    {
        KvmLabFormatters.Register();
        var regs = new Registers { Rip = 0x100023, Rax = 0xdead_beef, R15 = 1 };

        var html = regs.ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("0x0000000000100023", html);
        Assert.Contains("0x00000000deadbeef", html);
        Assert.Contains("<td style=\"font-family:monospace;text-align:left\">r15</td><td style=\"font-family:monospace;text-align:left\">0x0000000000000001</td>", html);
    }

    [KvmFact]
    public void MachineExitAndRunResultDisplayWhatKvmRunReturned()
    {
        using var machine = Machine.Boot(GuestLibrary.Get("hello").Build());
        machine.Step();

        var exit = machine.LastExit.ToDisplayString(HtmlFormatter.MimeType);
        var run = machine.Run().ToDisplayString(HtmlFormatter.MimeType);
        var summary = machine.ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("KVM_EXIT_IO (2)", exit);
        Assert.Contains("0x03fd", exit);
        Assert.Contains("io.data_offset", exit);
        Assert.Contains("IsaDebugExit", run);
        Assert.Contains("0x21 (33)", run);
        Assert.Contains("hello: Real mode", summary);
        Assert.Contains("memory slots (KVM_SET_USER_MEMORY_REGION", summary);
    }
}
