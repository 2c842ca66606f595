using KvmLab.Kvm;
using KvmLab.Kvm.Interop;
using KvmLab.Testing;

namespace KvmLab.Tests.Kvm;

public sealed class KvmExceptionTests
{
    [Fact]
    public void AMissingKvmDeviceNamesTheModuleAndFirmwareFix()
    {
        var error = Assert.Throws<KvmException>(() => new KvmSystem("/nonexistent/kvm"));
        Assert.Equal(Libc.ENOENT, error.Errno);
        Assert.Equal("open /dev/kvm", error.IoctlName);
        Assert.Contains("modprobe kvm_intel", error.Message);
        Assert.Contains("virtualization", error.Hint);
    }

    [KvmFact]
    public void InvalidSpecialRegistersNameTheLikelyField()
    {
        using var m = new TestMachine([0xF4]);
        var sregs = m.Vcpu.GetSpecialRegisters();
        sregs.Cr0 = (sregs.Cr0 | (1UL << 31)) & ~1UL; // paging without protection
        var error = Assert.Throws<KvmException>(() => m.Vcpu.SetSpecialRegisters(sregs));
        Assert.Equal(("KVM_SET_SREGS", Libc.EINVAL), (error.IoctlName, error.Errno));
        Assert.Contains("CR0.PG has CR0.PE", error.Hint);
    }
}
