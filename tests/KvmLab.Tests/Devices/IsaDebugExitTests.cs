using KvmLab.Devices;
using KvmLab.Memory;
using KvmLab.Pci;
using KvmLab.Tests.Pci;

namespace KvmLab.Tests.Devices;

public class IsaDebugExitTests
{
    [Theory]
    [InlineData(0UL, 1UL)]
    [InlineData(1UL, 3UL)]
    [InlineData(0x31UL, 0x63UL)]
    public void A_write_requests_exit_with_value_shifted_left_or_one(ulong value, ulong status)
    {
        var io = AddressSpace.CreateIo();
        var device = new IsaDebugExit();
        io.Root.AddSubregion(PcLayout.IsaDebugExitPort, device.Region);
        Assert.False(device.ExitRequested);
        AccessResult r = io.Write(PcLayout.IsaDebugExitPort, 1, value);
        Assert.True(device.ExitRequested);
        Assert.Equal(status, device.ExitStatus);
        Assert.Equal("isa-debug-exit", r.Region?.Name);
        Assert.Equal("exit", r.RegisterName);
    }
}
