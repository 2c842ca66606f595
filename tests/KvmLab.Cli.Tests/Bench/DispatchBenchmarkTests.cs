using System.Text.Json;
using System.Text.Json.Nodes;
using KvmLab.Cli.Bench;

using KvmLab.Cli.Commands;

namespace KvmLab.Cli.Tests.Bench;

public sealed class DispatchBenchmarkTests
{
    private static readonly string[] Kinds = ["pio_write", "pio_read", "mmio_write", "mmio_read", "coalesced", "msi", "debug"];

    [Fact]
    public void Dispatch_only_measures_every_exit_kind_traced_and_not_without_kvm_and_allocates_nothing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvmlab-dispatch-test-{Guid.NewGuid():N}.json");
        try
        {
            Assert.Equal(0, Program.Main(["bench", "--dispatch-only", "--quick", "--json", path]));
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            foreach (var kind in Kinds)
            {
                foreach (var key in new[] { kind, $"{kind}_untraced" })
                {
                    Assert.True(root.GetProperty($"dispatch_ns_{key}").GetDouble() > 0, key);
                    Assert.True(root.GetProperty($"dispatch_ns_{key}_median").GetDouble() >= root.GetProperty($"dispatch_ns_{key}").GetDouble(), key);
                    // Allocation does not depend on the machine's speed: every kind, traced or not, allocates nothing.
                    Assert.Equal(0, root.GetProperty($"dispatch_bytes_{key}").GetDouble());
                }
            }
            Assert.Equal(0, root.GetProperty("dispatch_alloc_bytes_max").GetDouble());
            Assert.True(root.GetProperty("dispatch_clock_read_ns").GetDouble() > 0);
            // Only the dispatch ran: no KVM exit figure.
            Assert.False(root.TryGetProperty("exit_ratio_pio", out _));
            var goals = root.GetProperty("figures").EnumerateArray()
                .Where(f => f.GetProperty("figure").GetString()!.StartsWith("dispatch:", StringComparison.Ordinal))
                .Select(f => f.GetProperty("goal").GetString()).ToList();
            Assert.Equal(8, goals.Count(g => g == "<= 50.0 ns"));
            Assert.Equal(1, goals.Count(g => g == "<= 0 B"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(40, 0, 0)]
    [InlineData(60, 0, 1)]
    [InlineData(40, 24, 1)]
    public void Check_fails_when_a_dispatch_case_is_over_50_ns_or_allocates(double ns, long bytes, int expectedExitCode)
    {
        var cases = Kinds.SelectMany(kind => new[] { true, false }.Select(traced =>
            new DispatchCase(kind, kind, traced, Rounds(kind == "mmio_read" && !traced ? ns : 30), kind == "debug" ? bytes : 0, 1000))).ToList();
        var figures = new List<Figure>();
        var json = new JsonObject();
        BenchSuite.AddDispatch(figures, json, new DispatchResult(cases, Rounds(20)), BenchSettings.Quick);

        Assert.Equal(expectedExitCode, BenchCommand.Check(figures, new StringWriter()));
        Assert.Equal(ns, json["dispatch_ns_mmio_read_untraced"]!.GetValue<double>());
        Assert.Equal(bytes / 1000.0, json["dispatch_alloc_bytes_max"]!.GetValue<double>());
    }

    private static Samples Rounds(double ns)
    {
        var samples = new Samples();
        samples.Add(ns);
        samples.Add(ns + 5);
        return samples;
    }
}
