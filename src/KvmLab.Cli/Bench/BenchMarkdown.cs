using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace KvmLab.Cli.Bench;

/// <summary>
/// The README's table, rendered from a <c>kvmlab bench --json</c> document (<c>kvmlab bench --table FILE</c>): the
/// published numbers are the JSON's, with the machine, its KVM backend and its load named above them.
/// </summary>
internal static class BenchMarkdown
{
    /// <summary>A Markdown paragraph naming the machine and a table of every figure.</summary>
    public static string Render(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var machine = json["machine"] as JsonObject ?? throw new ArgumentException("the JSON has no \"machine\" object: not a kvmlab bench document", nameof(json));
        var figures = json["figures"] as JsonArray ?? throw new ArgumentException("the JSON has no \"figures\" array: not a kvmlab bench document", nameof(json));
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"Measured on {machine["cpu_model"]}, {machine["cores"]} cores, Linux {machine["kernel"]}, KVM backend `{machine["kvm_backend"]}`, ")
            .Append(CultureInfo.InvariantCulture, $"{machine["runtime"]}, {json["core_build"]} build, load average {Number(machine["load_average_before"])} before and ")
            .Append(CultureInfo.InvariantCulture, $"{Number(machine["load_average_after"])} after.\n\n");
        sb.Append("| figure | value | reference (same run) | ratio | goal | verdict | note |\n");
        sb.Append("|---|---|---|---|---|---|---|\n");
        foreach (var row in figures.OfType<JsonObject>())
        {
            var unit = (string?)row["unit"] ?? "";
            var name = (string?)row["figure"] ?? "";
            var reference = row["reference"] is null ? "" : $"{Number(row["reference"])} {unit} ({row["reference_name"]})";
            sb.Append("| ").Append(Cell(name))
                .Append(" | ").Append(Cell($"{Number(row["value"])} {unit}"))
                .Append(" | ").Append(Cell(reference))
                .Append(" | ").Append(Cell(row["ratio"] is null ? "" : Number(row["ratio"])))
                .Append(" | ").Append(Cell((string?)row["goal"] ?? ""))
                .Append(" | ").Append(Cell(Verdict((string?)row["verdict"])))
                .Append(" | ").Append(Cell((string?)row["note"] ?? ""))
                .Append(" |\n");
        }
        return sb.ToString();
    }

    private static string Number(JsonNode? node) => node is null ? "-" : Figure.Format(node.GetValue<double>());

    private static string Verdict(string? verdict) => verdict switch
    {
        "Met" => "met",
        "Missed" => "**missed**",
        "NotMeasured" => "not measured",
        _ => "",
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
