using KvmLab.Scripting;
using KvmLab.Testing;

namespace KvmLab.Cli.Tests.Fuzz;

/// <summary>The script host (the notebook-like path): clear compile errors, and no listening socket after a guest ran.</summary>
public sealed class SatelliteSafetyTests
{
    [Fact]
    public async Task AScriptThatDoesNotCompileNamesFileLineColumnAndTheCompilerError()
    {
        var output = new StringWriter();

        var result = await ScriptHost.RunAsync("var m = new Machine();\nint x = ;\n", "/tmp/broken.csx", [], output);

        Assert.Equal(ScriptOutcome.CompileError, result.Outcome);
        Assert.Equal(1, result.ExitCode);
        var first = Assert.Single(result.Diagnostics);
        Assert.StartsWith("/tmp/broken.csx:2:9: error CS1525: Invalid expression term ';'", first);
    }

    [KvmFact]
    public async Task AScriptThatBootsAGuestAndReadsItsTraceLeavesNoListeningSocket()
    {
        var output = new StringWriter();
        var seconds = TestScale.Bound(TimeSpan.FromSeconds(10)).TotalSeconds;
        var code = $$"""
            var m = Machine.Boot(GuestLibrary.Get("hello").Build());
            var r = m.Run(TimeSpan.FromSeconds({{seconds}}));
            var rows = TraceStatistics.Compute(m.Trace, StatGrouping.Device).Count();
            m.Dispose();
            r.Reason
            """;

        var result = await ScriptHost.RunAsync(code, "/tmp/hello.csx", [], output);

        Assert.True(result.Outcome == ScriptOutcome.Completed, string.Join("\n", result.Diagnostics) + result.Exception);
        Assert.Equal(StopReason.IsaDebugExit, result.ReturnValue);
        Assert.Empty(NetworkExposure.ListeningSockets());
    }
}
