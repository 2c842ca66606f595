using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;

namespace KvmLab.Interactive;

/// <summary>
/// A chapter's set-up in one call, after <c>#r "../artifacts/notebook/KvmLab.Interactive.dll"</c>:
/// <c>await KvmLabNotebook.SetUpAsync()</c> references the guest library and Iced, imports KvmLab's namespaces and
/// <see cref="Claims.Claim"/> into the notebook, registers the formatters, and returns what the chapter is measured on
/// (<see cref="MeasuredOn"/>), which the cell displays as its output.
/// </summary>
public static class KvmLabNotebook
{
    /// <summary>
    /// The assemblies beside KvmLab.Interactive that cells use directly (a <c>#r</c> makes one visible to the compiler),
    /// KvmLab.Interactive among them: the cell that referenced it has not finished, so the set-up code cannot see it yet.
    /// </summary>
    public static IReadOnlyList<string> References { get; } = ["KvmLab.dll", "KvmLab.Charts.dll", "KvmLab.Interactive.dll", "KvmLab.Guests.dll", "Iced.dll"];

    /// <summary>The namespaces and static imports every chapter uses.</summary>
    public static IReadOnlyList<string> Imports { get; } =
    [
        "KvmLab", "KvmLab.Boards", "KvmLab.Charts", "KvmLab.Guests", "KvmLab.Interactive", "KvmLab.Kvm", "KvmLab.Kvm.Stats",
        "KvmLab.Loading", "KvmLab.Memory", "KvmLab.Pci", "KvmLab.Qemu", "KvmLab.Tracing",
        "static Iced.Intel.AssemblerRegisters", "static KvmLab.Interactive.Claims",
    ];

    /// <summary>The code <see cref="SetUpAsync"/> submits: the <c>#r</c> lines (absolute, for those beside this assembly) and usings.</summary>
    public static string SetUpCode()
    {
        var folder = Path.GetDirectoryName(typeof(KvmLabNotebook).Assembly.Location)!;
        // Installed as a package, Iced comes from a package of its own (already referenced by the kernel), not from here.
        return string.Concat(References.Where(r => File.Exists(Path.Combine(folder, r))).Select(r => $"#r \"{Path.Combine(folder, r)}\"\n"))
            + string.Concat(Imports.Select(i => $"using {i};\n"));
    }

    /// <summary>
    /// Submits <see cref="SetUpCode"/> to the kernel running the calling cell, so that the chapter's later cells see
    /// KvmLab's types by their short names, and registers the formatters.
    /// </summary>
    /// <returns>The machine the chapter runs on: the cell's output, so that it is the first thing an executed chapter shows.</returns>
    /// <exception cref="InvalidOperationException">Not called from a notebook cell.</exception>
    public static async Task<Table> SetUpAsync()
    {
        var kernel = KernelInvocationContext.Current?.HandlingKernel
            ?? throw new InvalidOperationException("KvmLabNotebook.SetUpAsync runs inside a notebook cell: call it from a C# cell");
        // Submitted as a command of its own, queued behind this cell, rather than nested in it: a nested submission's
        // usings end with the cell (the next cell continues from the cell's script state, not the nested one's). With
        // the invocation context not flowing, the kernel's scheduler sees a new top-level command; the cell ends only
        // once it is queued, so it runs before any later cell. Should it fail, the next cell says which names are missing.
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(() =>
            {
                var run = kernel.SendAsync(new SubmitCode(SetUpCode(), kernel.Name));
                queued.SetResult();
                return run;
            });
        }
        await queued.Task;
        KvmLabFormatters.Register();
        return MeasuredOn.Current().ToTable();
    }
}
