using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class EduGuestTests
{
    [QemuTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Edu_computes_factorials_one_to_twelve_on_the_device_under_qemu(CpuMode mode)
    {
        var run = GuestQemu.Run(EduGuest.Build(mode));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Contains("edu: identification 0x010000ED\n", run.SerialText);
        Assert.Contains("edu: liveness ok", run.SerialText);
        ulong f = 1;
        for (var n = 1; n <= 12; n++)
        {
            f *= (ulong)n;
            Assert.Contains($"edu: {n}! = {f}\n", run.SerialText);
        }
        Assert.EndsWith(EduGuest.FinalLine + "\n", run.SerialText);
    }
}
