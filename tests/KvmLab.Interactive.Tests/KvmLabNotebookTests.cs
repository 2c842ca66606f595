namespace KvmLab.Interactive.Tests;

public class KvmLabNotebookTests
{
    [Fact]
    public void SetUpCodeReferencesTheAssembliesBesideKvmLabInteractiveAndImportsClaim()
    {
        var code = KvmLabNotebook.SetUpCode();
        var folder = Path.GetDirectoryName(typeof(KvmLabNotebook).Assembly.Location)!;

        Assert.Contains($"#r \"{Path.Combine(folder, "KvmLab.Guests.dll")}\"\n", code);
        Assert.Contains($"#r \"{Path.Combine(folder, "KvmLab.Interactive.dll")}\"\n", code);
        Assert.Contains("using static KvmLab.Interactive.Claims;\n", code);
        Assert.Contains("using KvmLab.Tracing;\n", code);
        Assert.DoesNotContain("#r \"\"", code);
    }

    [Fact]
    public async Task SetUpOutsideANotebookCellSaysWhereItRuns()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(KvmLabNotebook.SetUpAsync);
        Assert.Contains("notebook cell", e.Message);
    }

    [Fact]
    public void MeasuredOnNamesCpuKernelBackendAndVersion()
    {
        var on = MeasuredOn.Current();

        Assert.NotEqual("", on.Cpu);
        Assert.True(on.Cores >= 1);
        Assert.Matches("^[0-9]+\\.[0-9]+", on.Kernel);
        Assert.Contains(on.KvmBackend, new[] { "kvm_intel", "kvm_amd", "kvm_pvm", "unknown" });
        Assert.StartsWith("0.", on.KvmLab);
        Assert.Matches("^measured_on +value\n", on.ToTable().ToString());
    }
}
