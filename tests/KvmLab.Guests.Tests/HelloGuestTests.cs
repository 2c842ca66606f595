using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class HelloGuestTests
{
    [QemuTheory]
    [InlineData(CpuMode.Real)]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Hello_prints_its_greeting_and_exits_with_success_under_qemu(CpuMode mode)
    {
        var run = GuestQemu.Run(HelloGuest.Build(mode));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Contains($"Hello from a KvmLab guest in {HelloGuest.ModeName(mode)} mode!\n", run.SerialText);
        Assert.EndsWith(HelloGuest.FinalLine + "\n", run.SerialText);
    }
}
