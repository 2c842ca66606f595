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
}
