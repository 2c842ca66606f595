using KvmLab.Scripting;

namespace KvmLab.Scripting.Tests;

public class ScriptHostTests
{
    private static async Task<(ScriptResult Result, string Output)> Run(string code, params string[] args)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kvmlab-test-{Guid.NewGuid():N}.csx");
        await File.WriteAllTextAsync(path, code);
        try
        {
            var output = new StringWriter();
            var result = await ScriptHost.RunFileAsync(path, args, output);
            return (result, output.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Script_sees_its_arguments_and_linq()
    {
        var (result, output) = await Run("Print(string.Join(\",\", Args.Select(a => a.ToUpperInvariant())));", "a", "b");
        Assert.Equal(ScriptOutcome.Completed, result.Outcome);
        Assert.Equal("A,B", output.Trim());
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Script_sees_kvmlab_types_without_usings()
    {
        var (result, output) = await Run("Print(PcLayout.Com1Port.ToString(\"x\")); Print(new ExitTrace(\"t\").Count);");
        Assert.Equal(ScriptOutcome.Completed, result.Outcome);
        Assert.Equal(new[] { "3f8", "0" }, output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Compile_error_names_file_line_and_column()
    {
        var (result, _) = await Run("var x = 1;\nvar y = x +;\n");
        Assert.Equal(ScriptOutcome.CompileError, result.Outcome);
        Assert.Equal(1, result.ExitCode);
        var first = result.Diagnostics[0];
        Assert.Matches(@"kvmlab-test-[0-9a-f]+\.csx:2:\d+: error CS\d{4}: ", first);
    }

    [Fact]
    public async Task Runtime_exception_points_at_the_script_line()
    {
        var (result, _) = await Run("var a = 1;\nvar b = 2;\nthrow new InvalidOperationException(\"boom\");\n");
        Assert.Equal(ScriptOutcome.RuntimeError, result.Outcome);
        Assert.Equal(3, result.Line);
        Assert.Equal("boom", result.Exception!.Message);
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task Missing_file_is_a_clear_error()
    {
        var result = await ScriptHost.RunFileAsync("/nonexistent/x.csx", Array.Empty<string>(), TextWriter.Null);
        Assert.Equal(ScriptOutcome.CompileError, result.Outcome);
        Assert.Contains("no such script file", result.Diagnostics[0]);
    }
}
