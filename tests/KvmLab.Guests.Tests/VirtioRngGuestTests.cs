using System.Text.RegularExpressions;
using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class VirtioRngGuestTests
{
    // Protected mode; long mode runs under QEMU in Compare.VirtioRngComparisonTests.
    [QemuTheory]
    [InlineData(CpuMode.Protected)]
    public void Virtio_rng_guest_prints_sixteen_random_bytes_under_qemu_q35(CpuMode mode)
    {
        var run = GuestQemu.Run(VirtioRngGuest.Build(mode), machine: "q35");

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run + "\n" + run.SerialText);
        Assert.Matches(new Regex($"^{Regex.Escape(VirtioRngGuest.RandomBytesPrefix)}( [0-9A-F]{{2}}){{{VirtioRngGuest.BufferLength}}}$", RegexOptions.Multiline), run.SerialText);
        Assert.Contains("virtio-rng: queue enabled, DRIVER_OK\n", run.SerialText);
        Assert.EndsWith(VirtioRngGuest.FinalLine + "\n", run.SerialText);
    }
}
