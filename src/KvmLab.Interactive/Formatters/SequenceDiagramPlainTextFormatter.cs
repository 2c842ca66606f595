using KvmLab.Tracing;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Formatters;

/// <summary>A sequence diagram's Mermaid source as text, for front ends that show text/plain only.</summary>
public sealed class SequenceDiagramPlainTextFormatter : KvmLabFormatter<SequenceDiagram>
{
    /// <summary>text/plain.</summary>
    public override string MimeType => PlainTextFormatter.MimeType;

    /// <inheritdoc />
    protected override void WriteValue(SequenceDiagram value, TextWriter writer) => writer.Write(value.Text);
}
