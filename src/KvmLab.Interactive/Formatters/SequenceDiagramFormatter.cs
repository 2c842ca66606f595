using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>
/// A sequence diagram as Markdown holding a fenced <c>mermaid</c> block: JupyterLab, VS Code, GitHub and documentation
/// sites draw it from that; stored in the notebook it stays readable as text where nothing draws it.
/// </summary>
public sealed class SequenceDiagramFormatter : KvmLabFormatter<SequenceDiagram>
{
    /// <summary>text/markdown.</summary>
    public override string MimeType => "text/markdown";

    /// <inheritdoc />
    protected override void WriteValue(SequenceDiagram value, TextWriter writer) => writer.Write(value.ToMarkdown());
}
