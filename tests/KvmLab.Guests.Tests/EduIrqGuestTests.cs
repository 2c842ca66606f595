using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class EduIrqGuestTests
{
    [QemuTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Edu_irq_handler_runs_once_per_factorial_under_qemu(CpuMode mode)
    {
        var run = GuestQemu.Run(EduIrqGuest.Build(mode));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Contains("edu-irq: MSI enabled", run.SerialText);
        var handlerLines = run.SerialText.Split('\n').Count(l => l == "edu-irq: handler: vector 0x40, interrupt status 0x00000001");
        Assert.Equal(EduIrqGuest.Count, handlerLines);
        ulong f = 1;
        for (var n = 1; n <= EduIrqGuest.Count; n++)
        {
            f *= (ulong)n;
            Assert.Contains($"edu-irq: {n}! = {f}\n", run.SerialText);
        }
        Assert.EndsWith(EduIrqGuest.FinalLine + "\n", run.SerialText);
    }

    [QemuFact]
    public void Edu_irq_with_iretd_in_protected_mode_is_correct_guest_code_under_qemu()
    {
        // Under QEMU's KVM on kvm_pvm the IRETD stops the VM with a KVM internal error; the runner then uses TCG.
        var run = GuestQemu.Run(EduIrqGuest.Build(CpuMode.Protected, returnWithIret: true));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.EndsWith(EduIrqGuest.FinalLine + "\n", run.SerialText);
    }

    [QemuFact]
    public void Edu_irq_protected_mode_default_runs_under_qemu_kvm_without_falling_back_to_tcg()
    {
        var run = GuestQemu.Run(EduIrqGuest.Build(CpuMode.Protected));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.True(run.Accelerator == KvmLab.Qemu.QemuAccelerator.Kvm || !File.Exists("/dev/kvm"), run.ToString());
    }
}
