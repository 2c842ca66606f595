using KvmLab.Testing;

namespace KvmLab.Cli.Tests;

public class DispatchTests
{
    private static readonly string[] Commands = ["run", "stat", "guests", "script", "doctor"];

    [Fact]
    public void Help_lists_every_command_and_each_command_has_its_own_help()
    {
        var overview = Kvmlab.Run("--help");
        Assert.True(overview.ExitCode == 0, overview.ToString());
        foreach (var c in Commands)
        {
            Assert.Contains($"  {c} ", overview.Stdout);
            var help = Kvmlab.Run(c, "--help");
            Assert.True(help.ExitCode == 0, help.ToString());
            Assert.Contains($"usage: kvmlab {c}", help.Stdout);
        }
    }

    [Fact]
    public void Run_help_lists_the_exit_codes()
    {
        var help = Kvmlab.Run("run", "--help").Stdout;
        foreach (var code in new[] { "124", "100", "102", "104", "106", "(V << 1) | 1" }) Assert.Contains(code, help);
    }

    [Fact]
    public void No_command_is_a_usage_error()
    {
        var none = Kvmlab.Run();
        Assert.True(none.ExitCode == 2, none.ToString());
        var unknown = Kvmlab.Run("frob");
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("unknown command 'frob'", unknown.Stderr);
    }

    [KvmFact]
    public void Redirected_output_carries_no_terminal_escape_codes()
    {
        var outputs = new[] { Kvmlab.Run("run", "hello", "--stats"), Kvmlab.Run("stat", "hello"), Kvmlab.Run("guests"), Kvmlab.Run("doctor") };
        foreach (var r in outputs)
        {
            Assert.DoesNotContain('\u001b', r.Stdout);
            Assert.DoesNotContain('\u001b', r.Stderr);
        }
    }

    [KvmFact]
    public void Doctor_passes_on_a_host_where_kvm_runs_guests()
    {
        var r = Kvmlab.Run("doctor");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("OK   /dev/kvm is present and opens read/write", r.Stdout);
        Assert.Contains("OK   KVM API version 12", r.Stdout);
        Assert.Contains("OK   guest run: hello ended with debug-exit status 33", r.Stdout);
        Assert.Contains("KVM works", r.Stdout);
        Assert.Matches(@"(?m)^(OK  |WARN|FAIL) .*qemu", r.Stdout.ToLowerInvariant().Replace("ok  ", "OK  ").Replace("warn", "WARN").Replace("fail", "FAIL"));
    }
}
