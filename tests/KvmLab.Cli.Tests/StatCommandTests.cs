using KvmLab.Testing;

namespace KvmLab.Cli.Tests;

public class StatCommandTests
{
    [KvmFact]
    public void Redirected_output_gets_one_set_of_tables_at_the_end()
    {
        var r = Kvmlab.Run("stat", "edu");
        Assert.True(r.ExitCode == 33, r.ToString());
        Assert.Contains("kvmlab stat: edu: IsaDebugExit", r.Stdout);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(r.Stdout, "KVM exits by reason"));
        Assert.Contains("edu.factorial", r.Stdout);
        Assert.Contains("MMIO", r.Stdout);
        Assert.DoesNotContain("edu: 12! = 479001600", r.Stdout);
        // The kernel's column: the vCPU's counters beside the exits that reached kvmlab.
        Assert.Matches(@"kernel counters \(kvm-\d+/vcpu-0\)", r.Stdout);
        Assert.Matches(@"│ mmio_exits +│ +[\d,]+ │ +[\d,]+ │", r.Stdout);
    }

    [KvmFact]
    public void A_run_stopped_by_its_timeout_still_reports_the_exits_it_saw()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("dots.bin"), [0xBA, 0xF8, 0x03, 0xB0, 0x2E, 0xEE, 0xEB, 0xFD]); // mov dx,0x3f8; mov al,'.'; l: out dx,al; jmp l
        var r = Kvmlab.RunIn(dir.Path, "stat", "dots.bin", "--once", "--timeout", "300ms");
        Assert.True(r.ExitCode == 124, r.ToString());
        Assert.Contains("serial.RBR/THR", r.Stdout);
        Assert.Contains("Timeout", r.Stdout);
    }
}
