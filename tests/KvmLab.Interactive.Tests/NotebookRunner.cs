using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Tests;

/// <summary>One displayed value of a cell: its MIME type and formatted text.</summary>
public sealed record CellOutput(int Cell, string MimeType, string Value);

/// <summary>
/// Runs a .ipynb top to bottom in this process: each C# cell is submitted to a CompositeKernel holding a CSharpKernel,
/// a failed cell throws with the cell's code and error, displayed and returned values are collected.
/// Like Jupyter, the kernel's working directory is the notebook's folder, except that <c>../artifacts/notebook</c>
/// (the folder notebooks <c>#r</c> KvmLab from) is this test's own build output, so the assemblies under test are the
/// ones loaded, and <c>../src</c> is the repository's sources. Formatter state is process-global: run notebooks one at a time.
/// </summary>
public static class NotebookRunner
{
    public static async Task<IReadOnlyList<CellOutput>> RunAsync(string notebookPath)
    {
        var document = Notebook.Parse(await File.ReadAllTextAsync(notebookPath),
            new KernelInfoCollection { new Microsoft.DotNet.Interactive.Documents.KernelInfo("csharp", "C#", ["c#", "C#"]) });
        var sandbox = Directory.CreateTempSubdirectory("kvmlab-notebook-");
        var previous = Directory.GetCurrentDirectory();
        Formatter.ResetToDefault();
        try
        {
            Directory.CreateDirectory(Path.Combine(sandbox.FullName, "artifacts"));
            Directory.CreateSymbolicLink(Path.Combine(sandbox.FullName, "artifacts", "notebook"), AppContext.BaseDirectory);
            // Chapters quote KvmLab's own source (../src) next to the QEMU code it mirrors.
            Directory.CreateSymbolicLink(Path.Combine(sandbox.FullName, "src"), Path.Combine(Path.GetDirectoryName(NotebooksDirectory())!, "src"));
            var cwd = Directory.CreateDirectory(Path.Combine(sandbox.FullName, "notebooks")).FullName;
            Directory.SetCurrentDirectory(cwd);

            using var kernel = new CompositeKernel { new CSharpKernel() };
            kernel.DefaultKernelName = "csharp";
            var outputs = new List<CellOutput>();
            var cell = 0;
            foreach (var element in document.Elements)
            {
                cell++;
                if (element.KernelName is not ("csharp" or null)) continue;
                var result = await kernel.SendAsync(new SubmitCode(element.Contents, "csharp"));
                foreach (var e in result.Events)
                {
                    switch (e)
                    {
                        case CommandFailed failed:
                            throw new InvalidOperationException(
                                $"{Path.GetFileName(notebookPath)} cell {cell} failed: {failed.Message}\n--- cell ---\n{element.Contents}");
                        case DisplayEvent display:
                            outputs.AddRange(display.FormattedValues.Select(v => new CellOutput(cell, v.MimeType, v.Value)));
                            break;
                    }
                }
            }
            return outputs;
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
            Formatter.ResetToDefault();
            sandbox.Delete(recursive: true);
        }
    }

    /// <summary>The repository's notebooks folder, found from the test's build output.</summary>
    public static string NotebooksDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "notebooks");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Teaching.sln"))) return candidate;
        }
        throw new DirectoryNotFoundException($"no notebooks/ beside Teaching.sln above {AppContext.BaseDirectory}");
    }
}
