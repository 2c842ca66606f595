using System.Diagnostics;
using KvmLab.Testing;

namespace KvmLab.Cli.Tests.Fuzz;

/// <summary><c>kvmlab fuzz</c> run as a separate process, the way a user or CI runs it.</summary>
public sealed class FuzzCommandTests
{
    [KvmFact]
    public void AFixedSeedGuestSessionPrintsOutcomeCountsAndEndsWithZeroHostFaults()
    {
        var (code, output, error) = Kvmlab("fuzz", "--runs", "60", "--seed", "3", "--workers", "2");

        Assert.True(code == 0, output + error);
        Assert.Contains("outcome", output);
        Assert.Contains("resources after:", output);
        Assert.Equal("fuzz: 60 runs, 0 host faults", LastLine(output));
    }

    [Fact]
    public void TheDeviceFuzzerNeedsNoKvmAndEndsWithZeroHostFaults()
    {
        var (code, output, error) = Kvmlab("fuzz", "--devices", "5000", "--seed", "5");

        Assert.True(code == 0, output + error);
        Assert.Contains("DMA transfers completed", output);
        Assert.Equal("fuzz: 5000 device operations, 0 host faults", LastLine(output));
    }

    [KvmFact]
    public void MachineChurnComparesResourcesAndEndsWithZeroHostFaults()
    {
        var (code, output, error) = Kvmlab("fuzz", "--machines", "40");

        Assert.True(code == 0, output + error);
        Assert.Contains("20 dropped for the finalizers", output);
        Assert.Equal("fuzz: 40 machines, 0 host faults", LastLine(output));
    }

    [Fact]
    public void AnUnknownModeIsAUsageErrorThatListsTheModes()
    {
        var (code, _, error) = Kvmlab("fuzz", "--mode", "smm");

        Assert.Equal(2, code);
        Assert.Contains("--mode expects real, protected, long or all, got 'smm'", error);
        Assert.Contains("see: kvmlab fuzz --help", error);
    }

    [Fact]
    public void AfterWithoutCaseIsAUsageErrorThatSaysWhatItNeeds()
    {
        var (code, _, error) = Kvmlab("fuzz", "--after", "3,5");

        Assert.Equal(2, code);
        Assert.Contains("--after needs --case", error);
    }

    [Fact]
    public void AnAfterListThatIsNotCaseNumbersIsAUsageError()
    {
        var (code, _, error) = Kvmlab("fuzz", "--case", "7", "--after", "3,five");

        Assert.Equal(2, code);
        Assert.Contains("--after: 'five' is not a case number", error);
    }

    [KvmFact]
    public void ACaseReplayedAfterOthersRunsThemOnOneMachineFirst()
    {
        var (code, output, error) = Kvmlab("fuzz", "--seed", "3", "--case", "9", "--after", "1,5");

        Assert.True(code == 0, output + error);
        Assert.Contains("replay: cases 1, 5 then case 9, on one fresh machine", output);
        Assert.Contains("1 machines", output);
        Assert.Equal("fuzz: 3 runs, 0 host faults", LastLine(output));
    }

    private static string LastLine(string output) => output.TrimEnd().Split('\n')[^1].TrimEnd('\r');

    private static (int Code, string Output, string Error) Kvmlab(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "KvmLab.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TestScale.Bound(TimeSpan.FromMinutes(2))))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("kvmlab fuzz did not finish within 2 minutes");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
