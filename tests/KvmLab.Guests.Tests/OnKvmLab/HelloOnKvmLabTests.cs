using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class HelloOnKvmLabTests
{
    [KvmTheory]
    [InlineData(CpuMode.Real)]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Hello_takes_only_uart_and_debug_exit_port_exits(CpuMode mode)
    {
        using var run = GuestRun.Of(HelloGuest.Build(mode));

        run.AssertSucceeded();
        Assert.Equal($"Hello from a KvmLab guest in {HelloGuest.ModeName(mode)} mode!\n{HelloGuest.FinalLine}\n", run.Serial);
        run.AssertOnePollPerCharacter();
        Assert.Equal(2 * run.Serial.Length + 1, run.Exits("IO"));
        Assert.Equal(0, run.Exits("MMIO"));
    }
}
