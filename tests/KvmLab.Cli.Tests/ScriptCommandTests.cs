using KvmLab.Testing;

namespace KvmLab.Cli.Tests;

public class ScriptCommandTests
{
    [Fact]
    public void A_compile_error_prints_file_line_column_and_exits_1()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.csx"), "var x = 1;\nvar y = x +;\n");
        var r = Kvmlab.RunIn(dir.Path, "script", "bad.csx");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Contains("bad.csx:2:", r.Stderr);
        Assert.Contains("error CS", r.Stderr);
    }

    [Fact]
    public void A_runtime_exception_prints_the_script_line_and_exits_2()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("throws.csx"), "Print(\"before\");\nthrow new InvalidOperationException(\"boom\");\n");
        var r = Kvmlab.RunIn(dir.Path, "script", "throws.csx");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("before", r.Stdout);
        Assert.Contains("throws.csx:2: InvalidOperationException: boom", r.Stderr);
        Assert.Contains("throw new InvalidOperationException", r.Stderr);
    }

    [Fact]
    public void Arguments_after_the_file_reach_the_script_even_when_they_look_like_options()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("args.csx"), "Print(string.Join(\"|\", Args));\n");
        var r = Kvmlab.RunIn(dir.Path, "script", "args.csx", "out/", "--fast");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("out/|--fast", r.Stdout.Trim());
    }

    [KvmFact]
    public void The_figures_script_regenerates_every_notebook_figure()
    {
        using var dir = new TempDir();
        var script = Path.Combine(RepoRoot(), "notebooks", "scripts", "figures.csx");
        var r = Kvmlab.RunIn(dir.Path, "script", script, dir.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var figure in new[] { "hello-exit-reasons", "pci-scan-config-map", "pci-scan-timeline", "edu-registers", "edu-handler-latency", "pio-vs-mmio-devices" })
        {
            Assert.True(new FileInfo(dir.File(figure + ".html")).Length > 1000, figure);
            Assert.Contains("<svg", File.ReadAllText(dir.File(figure + ".svg")));
        }
        Assert.Contains("mmio-write", r.Stdout);
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Teaching.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Teaching.sln not found above the test assembly");
    }
}
