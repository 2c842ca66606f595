using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class EduIrqGuestTests
{
    [QemuTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Edu_irq_handler_runs_once_per_factorial_under_qemu(CpuMode mode)
    {
        var run = QemuRunner.Run(EduIrqGuest.Build(mode));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Contains("edu-irq: MSI enabled", run.Serial);
        var handlerLines = run.Serial.Split('\n').Count(l => l == "edu-irq: handler: vector 0x40, interrupt status 0x00000001");
        Assert.Equal(EduIrqGuest.Count, handlerLines);
        ulong f = 1;
        for (var n = 1; n <= EduIrqGuest.Count; n++)
        {
            f *= (ulong)n;
            Assert.Contains($"edu-irq: {n}! = {f}\n", run.Serial);
        }
        Assert.EndsWith(EduIrqGuest.FinalLine + "\n", run.Serial);
    }
}
