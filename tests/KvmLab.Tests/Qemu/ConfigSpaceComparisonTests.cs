using KvmLab.Qemu;

namespace KvmLab.Tests.Qemu;

public class ConfigSpaceComparisonTests
{
    private const string Kvm = """
        config-dump: PCIEXBAR enabled, ECAM, 4 KiB per function
        00:00.0 000: 29C08086 00000000 06000000 00000000
        00:02.0 000: 11E81234 00100000 00FF0010 00000000
        00:02.0 100-fff all-ones
        config-dump: done
        """;

    [Fact]
    public void Dwords_are_read_as_little_endian_bytes_and_the_marker_is_kept()
    {
        var bytes = ConfigSpaceComparison.Parse(Kvm);

        Assert.Equal(0x86, bytes[("00:00.0", 0)]);
        Assert.Equal(0x29, bytes[("00:00.0", 3)]);
        Assert.Equal(0x10, bytes[("00:02.0", 6)]);
        Assert.True(bytes.ContainsKey(("00:02.0", -1)));
        Assert.False(bytes.ContainsKey(("00:00.0", 16)));
    }

    [Fact]
    public void A_differing_byte_is_unexplained_unless_a_reason_covers_it()
    {
        var qemu = Kvm.Replace("06000000", "06000002", StringComparison.Ordinal);

        var plain = ConfigSpaceComparison.Compare(Kvm, qemu, []);
        var explained = ConfigSpaceComparison.Compare(Kvm, qemu, [new("00:00.0", 8, 8, "revision")]);

        var d = Assert.Single(plain.Unexplained);
        Assert.Equal(("00:00.0", 8, (byte?)0x00, (byte?)0x02), (d.Function, d.Offset, d.KvmLab, d.Qemu));
        Assert.Empty(explained.Unexplained);
        Assert.Single(explained.Differences);
    }

    [Fact]
    public void A_line_left_out_as_zeros_differs_from_a_printed_one_and_a_missing_function_differs_everywhere()
    {
        var qemu = Kvm.Replace("00:02.0 100-fff all-ones", "00:02.0 100: 00010001 00000000 00000000 00000000\n00:03.0 000: 00051B36 00000000 00FF0000 00000000", StringComparison.Ordinal);

        var c = ConfigSpaceComparison.Compare(Kvm, qemu, []);

        // 00:02.0's extended space: all-ones on one side, a capability then zeros on the other: every byte differs.
        Assert.Equal(0xF00, c.Differences.Count(d => d.Function == "00:02.0"));
        Assert.Contains(c.Differences, d => d is { Function: "00:02.0", Offset: 0x100, KvmLab: 0xFF, Qemu: 0x01 });
        Assert.All(c.Differences.Where(d => d.Function == "00:03.0"), d => Assert.Null(d.KvmLab));
        Assert.Contains("00:03.0", c.Describe());
    }
}
