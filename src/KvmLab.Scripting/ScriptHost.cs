using System.Collections.Immutable;
using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace KvmLab.Scripting;

/// <summary>
/// Runs C# scripts (.csx) with KvmLab referenced and its namespaces, System.Linq and friends imported, the way a
/// notebook cell sees them. Compile errors come back as FILE:line:col diagnostics; a runtime exception comes back with
/// the script line it was thrown from.
/// </summary>
public static class ScriptHost
{
    /// <summary>Namespaces every script imports.</summary>
    public static readonly ImmutableArray<string> Imports = ImmutableArray.Create(
        "System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Text", "System.Threading",
        "System.Threading.Tasks",
        "KvmLab", "KvmLab.Kvm", "KvmLab.Memory", "KvmLab.Pci", "KvmLab.Devices", "KvmLab.Loading", "KvmLab.Tracing",
        "KvmLab.Guests", "KvmLab.Charts");

    /// <summary>Assemblies every script references: KvmLab's own plus the host's loaded framework.</summary>
    public static IEnumerable<Assembly> References()
    {
        var names = new[] { "KvmLab", "KvmLab.Guests", "KvmLab.Charts" };
        foreach (var name in names)
        {
            Assembly? a = null;
            try { a = Assembly.Load(name); }
            catch (FileNotFoundException) { }
            if (a is not null) yield return a;
        }
        yield return typeof(Enumerable).Assembly;
    }

    /// <summary>Script options with KvmLab's references and imports, debug info on (for line numbers).</summary>
    public static ScriptOptions Options(string path)
    {
        var references = References().ToList();
        // A KvmLab namespace is imported only when a referenced assembly declares it (a missing assembly would
        // otherwise turn every script into a CS0246); the exported types are read once, not once per namespace.
        var declared = references.SelectMany(ExportedTypes).Select(t => t.Namespace).ToHashSet(StringComparer.Ordinal);
        return ScriptOptions.Default
            .WithFilePath(path)
            .WithFileEncoding(System.Text.Encoding.UTF8)
            .WithEmitDebugInformation(true)
            .WithReferences(references)
            .AddImports(Imports.Where(ns => !ns.StartsWith("KvmLab", StringComparison.Ordinal) || declared.Contains(ns)))
            .WithSourceResolver(new SourceFileResolver(ImmutableArray<string>.Empty, Path.GetDirectoryName(path)))
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(Path.GetDirectoryName(path)));
    }

    /// <summary>Compiles and runs the script at <paramref name="path"/>.</summary>
    public static async Task<ScriptResult> RunFileAsync(string path, IReadOnlyList<string> args, TextWriter output, CancellationToken cancel = default)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            return new ScriptResult(ScriptOutcome.CompileError, new[] { $"{path}: error: no such script file (check the path; scripts end in .csx)" }, null, 0, null);
        var code = await File.ReadAllTextAsync(full, cancel).ConfigureAwait(false);
        return await RunAsync(code, full, args, output, cancel).ConfigureAwait(false);
    }

    /// <summary>Compiles and runs <paramref name="code"/> as if it were the file <paramref name="path"/>.</summary>
    public static async Task<ScriptResult> RunAsync(string code, string path, IReadOnlyList<string> args, TextWriter output, CancellationToken cancel = default)
    {
        var script = CSharpScript.Create(code, Options(path), typeof(ScriptGlobals));
        var diagnostics = script.Compile(cancel);
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => Format(d, path)).ToList();
        if (errors.Count > 0) return new ScriptResult(ScriptOutcome.CompileError, errors, null, 0, null);
        try
        {
            var state = await script.RunAsync(new ScriptGlobals(path, args, output), _ => true, cancel).ConfigureAwait(false);
            if (state.Exception is not null)
                return new ScriptResult(ScriptOutcome.RuntimeError, Array.Empty<string>(), state.Exception, LineOf(state.Exception, path), null);
            return new ScriptResult(ScriptOutcome.Completed, Array.Empty<string>(), null, 0, state.ReturnValue);
        }
        catch (CompilationErrorException e)
        {
            return new ScriptResult(ScriptOutcome.CompileError, e.Diagnostics.Select(d => Format(d, path)).ToList(), null, 0, null);
        }
    }

    /// <summary>"FILE:line:col: error CSxxxx: message", the shape editors and terminals turn into links.</summary>
    public static string Format(Diagnostic d, string path)
    {
        var span = d.Location.GetMappedLineSpan();
        var file = string.IsNullOrEmpty(span.Path) ? path : span.Path;
        var severity = d.Severity == DiagnosticSeverity.Error ? "error" : "warning";
        return $"{file}:{span.StartLinePosition.Line + 1}:{span.StartLinePosition.Character + 1}: {severity} {d.Id}: {d.GetMessage()}";
    }

    /// <summary>The 1-based line of <paramref name="path"/> that threw, searched through inner exceptions; 0 if unknown.</summary>
    public static int LineOf(Exception exception, string path)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
            {
                if (string.Equals(frame.GetFileName(), path, StringComparison.Ordinal) && frame.GetFileLineNumber() > 0)
                    return frame.GetFileLineNumber();
            }
        }
        return 0;
    }

    private static IEnumerable<Type> ExportedTypes(Assembly a)
    {
        try { return a.GetExportedTypes(); }
        catch (ReflectionTypeLoadException) { return Array.Empty<Type>(); }
    }
}
