namespace KvmLab.Interactive.Tests;

public class NotebookRunnerTests
{
    [Fact]
    public async Task FailingCellFailsTheRunNamingTheCell()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvmlab-failing-{Guid.NewGuid():n}.ipynb");
        await File.WriteAllTextAsync(path, """
            {"cells": [
              {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": ["var x = 1;"]},
              {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": ["throw new System.Exception(\"boom\");"]}
            ], "metadata": {"kernelspec": {"name": ".net-csharp", "language": "C#", "display_name": ".NET (C#)"}}, "nbformat": 4, "nbformat_minor": 5}
            """);
        try
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => NotebookRunner.RunAsync(path));
            Assert.Contains("cell 2 failed", e.Message);
            Assert.Contains("boom", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
