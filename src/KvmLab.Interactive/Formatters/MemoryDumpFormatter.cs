using System.Globalization;
using System.Text;

namespace KvmLab.Interactive.Formatters;

/// <summary>A <see cref="MemoryDump"/> as a classic hexdump: address, 16 bytes, their printable ASCII.</summary>
public sealed class MemoryDumpFormatter : KvmLabFormatter<MemoryDump>
{
    private const int BytesPerLine = 16;

    /// <inheritdoc />
    protected override void WriteValue(MemoryDump value, TextWriter writer)
    {
        var text = new StringBuilder();
        for (var offset = 0; offset < value.Bytes.Length; offset += BytesPerLine)
        {
            var line = value.Bytes.AsSpan(offset, Math.Min(BytesPerLine, value.Bytes.Length - offset));
            text.Append(CultureInfo.InvariantCulture, $"0x{value.Address + (ulong)offset:x8}  ");
            for (var i = 0; i < BytesPerLine; i++)
                text.Append(i < line.Length ? line[i].ToString("x2", CultureInfo.InvariantCulture) + " " : "   ").Append(i == 7 ? " " : "");
            text.Append(' ');
            foreach (var b in line) text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            text.Append('\n');
        }
        writer.Write("<pre class=\"kvmlab-hexdump\">");
        writer.Write(Html.Text(text.ToString()));
        writer.Write("</pre>");
    }
}
