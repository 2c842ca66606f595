using KvmLab.Kvm;
using KvmLab.Qemu;
using KvmLab.Tracing;

namespace KvmLab.Tests.Qemu;

public class SerialComparisonTests
{
    private static ExitTrace Printing(string name, string text, params (uint Address, ulong Value)[] configBefore)
    {
        var trace = new ExitTrace(name);
        var serial = trace.AddSource(new TraceRegion("serial", "serial", "io", []));
        var idx = trace.AddSource(new TraceRegion("pci-host", "pci-conf-idx", "io", []));
        var data = trace.AddSource(new TraceRegion("pci-host", "pci-conf-data", "io", []));
        foreach (var (address, value) in configBefore)
        {
            trace.Add(new ExitRecord(0, ExitReason.Io, TraceAccess.PioWrite, 0xCF8, 4, address, 0, ExitFlags.None, idx, ExitRecord.None, 0, 0));
            // The record of a data access carries the function and register the host reached, as the run loop and
            // the QEMU trace parser record them.
            trace.Add(new ExitRecord(0, ExitReason.Io, TraceAccess.PioRead, 0xCFC, 4, value, 0, ExitFlags.None, data, ExitRecord.None, 0, 0)
                .WithConfigTarget(KvmLab.Pci.PciAddress.FromConfigAddress(address), (int)(address & 0xFC)));
        }
        foreach (var c in text)
            trace.Add(new ExitRecord(0, ExitReason.Io, TraceAccess.PioWrite, 0x3F8, 1, c, 0, ExitFlags.None, serial, ExitRecord.None, 0, 0));
        return trace;
    }

    [Fact]
    public void Equal_outputs_are_the_same_line_for_line()
    {
        var lines = SerialComparison.Compare("a\nb\n", "a\nb\n");

        Assert.Equal([("a", "a"), ("b", "b")], lines.Select(l => (l.KvmLab, l.Qemu)));
        Assert.All(lines, l => Assert.Equal(SerialLineStatus.Same, l.Status));
    }

    [Fact]
    public void Without_an_alignment_every_difference_counts()
    {
        var lines = SerialComparison.Compare("a\nc\n", "a\nb\nc\n");

        var extra = Assert.Single(lines, l => l.Status != SerialLineStatus.Same);
        Assert.Equal((null, "b", SerialLineStatus.Differs), (extra.KvmLab, extra.Qemu, extra.Status));
    }

    [Fact]
    public void A_line_only_qemu_printed_about_its_piix_function_is_explained_by_the_accesses_that_wrote_it()
    {
        // The guest reports 00:01.0 only when it answers; on KvmLab it reads all-ones there.
        var kvmLab = Printing("kvmlab", "", (0x80000800, 0xFFFFFFFF));
        var qemu = Printing("qemu", "00:01.0 found\n", (0x80000800, 0x70008086));
        var alignment = TraceAligner.Align(kvmLab, qemu);
        var line = Assert.Single(SerialComparison.Compare("", "00:01.0 found\n", alignment));

        Assert.Equal(SerialLineStatus.Explained, line.Status);
        Assert.Equal("the guest reporting 00:01.0, QEMU's PIIX3 ISA bridge (8086:7000)", line.Note);
    }

    [Fact]
    public void A_line_that_differs_for_no_known_reason_is_a_difference_even_with_an_alignment()
    {
        var kvmLab = Printing("kvmlab", "x=1\n");
        var qemu = Printing("qemu", "x=2\n");
        var lines = SerialComparison.Compare("x=1\n", "x=2\n", TraceAligner.Align(kvmLab, qemu));

        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(SerialLineStatus.Differs, l.Status));
    }

    [Fact]
    public void Output_the_transmit_writes_do_not_account_for_is_not_attributed()
    {
        var kvmLab = Printing("kvmlab", "", (0x80000800, 0xFFFFFFFF));
        var qemu = Printing("qemu", "found\n", (0x80000800, 0x70008086));
        var line = Assert.Single(SerialComparison.Compare("", "found!\n", TraceAligner.Align(kvmLab, qemu)));

        Assert.Equal(SerialLineStatus.Differs, line.Status);
    }

    [Fact]
    public void A_line_the_guest_declared_random_is_explained_with_the_transmit_writes_that_print_it()
    {
        string[] random = ["rng:"];
        var alignment = TraceAligner.Align(Printing("kvmlab", "hello\nrng: 1A\n"), Printing("qemu", "hello\nrng: 2B\n"), random);
        var lines = SerialComparison.Compare("hello\nrng: 1A\n", "hello\nrng: 2B\n", alignment, random);

        Assert.True(alignment.Agrees, alignment.ToTable());
        Assert.Equal(2, alignment.CountOf(AlignmentStatus.Explained));
        Assert.All(alignment.Rows.Where(r => r.Status == AlignmentStatus.Explained), r => Assert.Equal(KnownDifferences.RandomData, r.Note));
        Assert.Equal([SerialLineStatus.Same, SerialLineStatus.Explained], lines.Select(l => l.Status));
        Assert.Equal(("rng: 1A", "rng: 2B"), (lines[1].KvmLab, lines[1].Qemu));
        Assert.Equal(KnownDifferences.RandomData, lines[1].Note);
    }

    [Fact]
    public void Declaring_a_random_line_excuses_no_other_line()
    {
        string[] random = ["rng:"];
        var alignment = TraceAligner.Align(Printing("kvmlab", "x=1\nrng: 1A\n"), Printing("qemu", "x=2\nrng: 2B\n"), random);
        var lines = SerialComparison.Compare("x=1\nrng: 1A\n", "x=2\nrng: 2B\n", alignment, random);

        var divergence = Assert.Single(alignment.Divergences);
        Assert.Equal((ulong)'1', divergence.KvmLab!.Value);
        Assert.Equal(2, lines.Count(l => l.Status == SerialLineStatus.Differs));
        Assert.Single(lines, l => l.Status == SerialLineStatus.Explained);
    }
}
