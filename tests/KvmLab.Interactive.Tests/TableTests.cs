using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Tests;

public class TableTests : IDisposable
{
    public TableTests() => Formatter.ResetToDefault();

    public void Dispose() => Formatter.ResetToDefault();

    private static readonly (int Offset, string Name, int Size)[] EduRegisters = [(0x00, "id", 4), (0x04, "liveness", 4), (0x80, "dma_src", 8)];

    private static Table Registers() =>
        EduRegisters.Select(r => new { offset = $"0x{r.Offset:x2}", name = r.Name, bytes = r.Size }).ToTable();

    [Fact]
    public void AnonymousRowsGetOneHeaderPerPropertyInDeclarationOrder()
    {
        var html = Registers().ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("<thead><tr><th style=\"text-align:left\">offset</th><th style=\"text-align:left\">name</th><th style=\"text-align:right\">bytes</th></tr></thead>", html);
        Assert.DoesNotContain("dni-treeview", html);
    }

    [Fact]
    public void HexStringsStayAsGivenAndNumbersAreRightAligned()
    {
        var html = Registers().ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("<tr><td style=\"font-family:monospace;text-align:left;white-space:pre\">0x80</td>"
            + "<td style=\"font-family:monospace;text-align:left;white-space:pre\">dma_src</td>"
            + "<td style=\"font-family:monospace;text-align:right;white-space:pre\">8</td></tr>", html);
    }

    [Fact]
    public void CellTextIsHtmlEncoded()
    {
        var html = new[] { new { note = "a < b & \"c\"" } }.ToTable().ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("a &lt; b &amp; &quot;c&quot;", html);
    }

    [Fact]
    public void FirstDisplayOfATableRegistersKvmLabFormatters()
    {
        Assert.False(KvmLabFormatters.AreRegistered);

        var html = Registers().ToDisplayString(HtmlFormatter.MimeType);

        Assert.Contains("class=\"kvmlab-table\"", html);
        Assert.True(KvmLabFormatters.AreRegistered);
    }

    [Fact]
    public void PlainTextIsAnAlignedTableWithNumbersRightAligned()
    {
        var text = Registers().ToDisplayString(PlainTextFormatter.MimeType);

        Assert.Equal(
            "offset  name      bytes\n" +
            "------  --------  -----\n" +
            "0x00    id            4\n" +
            "0x04    liveness      4\n" +
            "0x80    dma_src       8\n", text);
        Assert.Equal(text, Registers().ToString());
    }

    [Fact]
    public void RowsBeyondTheCapAreCountedNotShown()
    {
        var table = Enumerable.Range(0, 250).Select(i => new { i, hex = $"0x{i:x}" }).ToTable();

        var html = table.ToDisplayString(HtmlFormatter.MimeType);

        Assert.Equal(200, table.Rows.Count);
        Assert.Equal(250, table.TotalRows);
        Assert.Equal(200, System.Text.RegularExpressions.Regex.Count(html, "<tr><td style=\"font-family:monospace"));
        Assert.Contains(">0xc7</td>", html);
        Assert.DoesNotContain(">0xc8</td>", html);
        Assert.Contains("… 50 more rows (first 200 of 250 shown)", html);
        Assert.EndsWith("… 50 more rows\n", table.ToString());
    }

    [Fact]
    public void TableOfTakesItsCapAndATableWithinTheCapHasNoNote()
    {
        var capped = Table.Of(Enumerable.Range(1, 5), maxRows: 3);
        var whole = Table.Of(Enumerable.Range(1, 5));

        Assert.Equal(["1", "2", "3"], capped.Rows.Select(r => r[0]));
        Assert.Equal(2, capped.OmittedRows);
        Assert.DoesNotContain("more rows", whole.ToDisplayString(HtmlFormatter.MimeType));
        Assert.DoesNotContain("more rows", whole.ToString());
    }

    [Fact]
    public void ScalarRowsAreOneValueColumn()
    {
        var numbers = Table.Of([3UL, 10UL]);
        var strings = Table.Of(["edu", "serial"]);

        Assert.Equal([new TableColumn("value", true)], numbers.Columns);
        Assert.Equal([new TableColumn("value", false)], strings.Columns);
        Assert.Equal(["edu", "serial"], strings.Rows.Select(r => r[0]));
    }

    [Fact]
    public void FieldsNullsBytesAndSequencesBecomeReadableCells()
    {
        var table = Table.Of([(Ip: 0x1000UL, Bytes: new byte[] { 0x0f, 0xa2 }, Note: (string?)null, Targets: new[] { "edu.id", "serial" })]);

        Assert.Equal(["Item1", "Item2", "Item3", "Item4"], table.Columns.Select(c => c.Name));
        Assert.Equal(["4096", "0f a2", "", "edu.id, serial"], table.Rows[0]);
    }

    [Fact]
    public void RowsTypedAsObjectAreDescribedByTheFirstRowsRuntimeType()
    {
        IEnumerable<object> rows = [new { region = "edu-mmio", exits = 40 }];

        var table = rows.ToTable();

        Assert.Equal(["region", "exits"], table.Columns.Select(c => c.Name));
        Assert.Equal(["edu-mmio", "40"], table.Rows[0]);
    }
}
