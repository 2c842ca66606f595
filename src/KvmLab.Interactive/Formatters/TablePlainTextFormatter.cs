using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Formatters;

/// <summary>
/// A <see cref="Table"/> as aligned text, for front ends and converters that take text/plain (without it the stock
/// plain-text formatter would list the table's properties instead of its rows).
/// </summary>
public sealed class TablePlainTextFormatter : KvmLabFormatter<Table>
{
    /// <summary>text/plain.</summary>
    public override string MimeType => PlainTextFormatter.MimeType;

    /// <inheritdoc />
    protected override void WriteValue(Table value, TextWriter writer) => writer.Write(value.ToString());
}
