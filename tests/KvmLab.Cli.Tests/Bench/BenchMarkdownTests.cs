using System.Text.Json.Nodes;
using KvmLab.Cli.Bench;

namespace KvmLab.Cli.Tests.Bench;

public sealed class BenchMarkdownTests
{
    [Fact]
    public void The_table_names_the_backend_and_the_load_and_shows_each_figure_with_its_reference_and_verdict()
    {
        var json = new JsonObject
        {
            ["core_build"] = "Release, ReadyToRun",
            ["machine"] = new JsonObject
            {
                ["cpu_model"] = "AMD EPYC", ["cores"] = 2, ["kernel"] = "6.18", ["kvm_backend"] = "kvm_pvm", ["runtime"] = ".NET 10.0.12",
                ["load_average_before"] = 1.25, ["load_average_after"] = 1.5,
            },
            ["figures"] = new JsonArray
            {
                new JsonObject
                {
                    ["figure"] = "PIO exit via Machine.Run (tracing on), over C", ["value"] = 350.0, ["unit"] = "ns", ["reference"] = 7500.0,
                    ["reference_name"] = "C KVM_RUN loop", ["ratio"] = 1.0467, ["goal"] = "<= 100 ns over", ["verdict"] = "Missed", ["note"] = "a|b",
                },
                new JsonObject { ["figure"] = "chart", ["value"] = 80.0, ["unit"] = "ms", ["verdict"] = "Info" },
            },
        };

        var table = BenchMarkdown.Render(JsonNode.Parse(json.ToJsonString())!.AsObject());

        Assert.Contains("KVM backend `kvm_pvm`", table);
        Assert.Contains("load average 1.25 before and 1.5 after", table);
        Assert.Contains("| PIO exit via Machine.Run (tracing on), over C | 350 ns | 7,500 ns (C KVM_RUN loop) | 1.047 | <= 100 ns over | **missed** | a\\|b |", table);
        Assert.Contains("| chart | 80.0 ms |  |  |  |  |  |", table);
    }

    [Fact]
    public void A_file_that_is_not_a_bench_document_is_a_usage_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvmlab-table-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"figures\": []}");
        try
        {
            Assert.Equal(2, Program.Main(["bench", "--table", path]));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
