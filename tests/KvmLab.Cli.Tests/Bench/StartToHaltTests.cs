using KvmLab.Cli.Bench;
using KvmLab.Qemu;
using KvmLab.Testing;

namespace KvmLab.Cli.Tests.Bench;

/// <summary>The start-to-halt benchmark's wiring: every process it times ran the guest to its success, and the phases add up.</summary>
public sealed class StartToHaltTests
{
    [KvmFact]
    public void OneRepetitionTimesKvmLabTheCVmmAndQemuAndSaysWhereKvmLabsMillisecondsGo()
    {
        var result = StartToHaltBenchmark.Run("hello", repetitions: 1, variants: false);

        Assert.Equal(1, result.KvmLab.Count);
        Assert.True(result.KvmLab.Median > 0);
        // gcc is installed wherever the benchmarks run (CI installs it): the floor is measured, not skipped.
        Assert.NotNull(result.CVmm);
        Assert.True(result.CVmm!.Median > 0);
        if (QemuRunner.TryFindQemu() is not null)
        {
            Assert.Contains("-M microvm", result.MicrovmCommand);
            Assert.True(result.Microvm!.Median > 0);
            Assert.True(result.Qemu!.Median > 0);
        }

        var jit = result.Phases["jit"];
        Assert.Equal(["main", "image", "machine", "halt", "reported", "exit"], jit.Select(p => p.Phase).ToArray());
        var times = jit.Select(p => p.Milliseconds).ToArray();
        Assert.All(times, t => Assert.True(t > 0));
        Assert.Equal(times.Order().ToArray(), times);
    }

    [Fact]
    public void AProfileLineIsReadBackPhaseByPhaseAndOutputWithoutOneHasNone()
    {
        var parsed = StartupProfile.Parse("kvmlab: hello ...\nstartup-profile: main=12.500 image=13.250 halt=20.000\n");

        Assert.Equal([("main", 12.5), ("image", 13.25), ("halt", 20.0)], parsed!.ToArray());
        Assert.Null(StartupProfile.Parse("kvmlab: hello (real mode at 0x10000): IsaDebugExit status 33\n"));
    }
}
