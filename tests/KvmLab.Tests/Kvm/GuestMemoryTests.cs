using KvmLab.Kvm;

namespace KvmLab.Tests.Kvm;

public sealed class GuestMemoryTests
{
    [Fact]
    public void AccessIsByGuestPhysicalAddress()
    {
        using var ram = GuestMemory.Allocate(0x10_0000, 0x2000);
        ram.Write(0x10_1FFCUL, 0xDEAD_BEEFU);
        Assert.Equal(0xDEAD_BEEFU, ram.Read<uint>(0x10_1FFC));
        Assert.Equal([0xEF, 0xBE, 0xAD, 0xDE], ram.GetSpan(0x10_1FFC, 4).ToArray());
    }

    [Theory]
    [InlineData(0x0FFFFFUL, 4)]
    [InlineData(0x101FFDUL, 4)]
    [InlineData(0x102000UL, 1)]
    [InlineData(ulong.MaxValue, 2)]
    public void OutOfRangeTryAccessAnswersFalseAndTouchesNothing(ulong gpa, int length)
    {
        using var ram = GuestMemory.Allocate(0x10_0000, 0x2000);
        Assert.False(ram.TryWrite(gpa, new byte[length]));
        Assert.False(ram.TryRead(gpa, new byte[length]));
        Assert.False(ram.TryRead<ulong>(gpa, out _));
        Assert.False(ram.TryGetSpan(gpa, length, out _));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ram.GetSpan(gpa, length));
        Assert.Contains("0x100000..+0x2000", error.Message);
    }

    [Fact]
    public void UnalignedAllocationIsRejected()
    {
        Assert.Throws<ArgumentException>(() => GuestMemory.Allocate(0x800, 0x1000));
        Assert.Throws<ArgumentException>(() => GuestMemory.Allocate(0, 0x1800));
    }
}
