namespace KvmLab.Interactive.Tests;

public class NotebookTests
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(NotebookRunner.NotebooksDirectory(), "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task NotebookRunsTopToBottomWithoutErrors(string notebook)
    {
        var outputs = await NotebookRunner.RunAsync(Path.Combine(NotebookRunner.NotebooksDirectory(), notebook));

        Assert.NotEmpty(outputs);
    }

    [Fact]
    public async Task SmokeNotebookShowsKvmLabFormattersAndOneOfflinePlotlyCopy()
    {
        var outputs = await NotebookRunner.RunAsync(Path.Combine(NotebookRunner.NotebooksDirectory(), "00-smoke.ipynb"));

        var html = outputs.Where(o => o.MimeType == "text/html").ToList();
        Assert.Contains(html, o => o.Value.Contains("class=\"kvmlab-trace\"") && o.Value.Contains("first 20 of 400 records"));
        Assert.Contains(html, o => o.Value.Contains("edu.FACTORIAL") && o.Value.Contains("avg round trip ns"));
        var charts = html.Where(o => o.Value.Contains("class=\"kvmlab-chart\"")).ToList();
        Assert.Equal(3, charts.Count);
        Assert.Contains("DecompressionStream", charts[0].Value);
        Assert.All(charts.Skip(1), c => Assert.DoesNotContain("DecompressionStream", c.Value));
        Assert.DoesNotContain(html, o => o.Value.Contains("cdn.plot.ly"));
    }
}
