using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class EduDmaGuestTests
{
    [QemuTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Edu_dma_round_trip_returns_every_byte_under_qemu(CpuMode mode)
    {
        var run = GuestQemu.Run(EduDmaGuest.Build(mode));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Contains("-> device 0x00040000\n", run.SerialText);
        Assert.Contains("edu-dma: device 0x00040000 -> RAM 0x", run.SerialText);
        Assert.Contains(EduDmaGuest.VerdictOk + ": 256 bytes came back intact\n", run.SerialText);
    }
}
