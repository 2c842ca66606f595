using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tests.Kvm;

namespace KvmLab.Tests.Loading;

public sealed class GuestLoaderTests
{
    [KvmFact]
    public void RealModeGuestExecutesA16BitImmediate()
    {
        // mov ax,0x1234 ; mov dx,0x3F8 ; out dx,ax : only a 16-bit decoder reads B8 as a 2-byte immediate.
        using var m = new TestMachine([0xB8, 0x34, 0x12, 0xBA, 0xF8, 0x03, 0xEF, 0xF4]);
        var io = m.Run().Io;
        Assert.Equal((2, 0x1234UL), (io.Size, io.Value));
    }

    [KvmFact]
    public void ProtectedModeGuestExecutesA32BitImmediate()
    {
        // mov eax,0x12345678 ; mov edx,0x3F8 ; out dx,eax
        using var m = new TestMachine([0xB8, 0x78, 0x56, 0x34, 0x12, 0xBA, 0xF8, 0x03, 0x00, 0x00, 0xEF, 0xF4], CpuMode.Protected);
        var io = m.Run().Io;
        Assert.Equal((4, 0x1234_5678UL), (io.Size, io.Value));
    }

    [KvmFact]
    public void LongModeGuestStoresA64BitImmediateThroughTheIdentityMap()
    {
        // mov rax,0x1122334455667788 ; movabs [0xE0000000],rax ; hlt
        byte[] code = [0x48, 0xB8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
            0x48, 0xA3, 0x00, 0x00, 0x00, 0xE0, 0x00, 0x00, 0x00, 0x00, 0xF4];
        using var m = new TestMachine(code, CpuMode.Long);
        var exit = m.Run();
        Assert.Equal(new MmioExit(true, 0xE000_0000, 8, 0x1122_3344_5566_7788), exit.Mmio);
    }

    [KvmFact]
    public void LongModeIdentityMapReachesTheLocalApicPage()
    {
        // mov eax,[0xFEE00030] (APIC version register, absolute via movabs eax) ; hlt
        byte[] code = [0xA1, 0x30, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00, 0xF4];
        using var m = new TestMachine(code, CpuMode.Long);
        var exit = m.Run();
        Assert.Equal(new MmioExit(false, 0xFEE0_0030, 4, 0), exit.Mmio);
    }

    [KvmTheory]
    [InlineData(0x7000UL, 0x7000UL, CpuMode.Protected, "overlaps the loader area")]
    [InlineData(0xFFF000UL, 0xFFF000UL, CpuMode.Protected, "does not fit in guest RAM")]
    [InlineData(0x100000UL, 0x200000UL, CpuMode.Protected, "is outside the image")]
    [InlineData(0xFFFF8UL, 0xFFFF8UL, CpuMode.Real, "beyond 1 MiB")]
    public void InvalidImagesAreRejectedWithAClearMessage(ulong load, ulong entry, CpuMode mode, string expected)
    {
        using var m = new TestMachine([0xF4]);
        var image = new GuestImage("bad", new byte[0x2000], load, entry, mode);
        var error = Assert.Throws<ArgumentException>(() => GuestLoader.Load(m.Vm, m.Ram, m.Vcpu, image));
        Assert.Contains(expected, error.Message);
    }
}
