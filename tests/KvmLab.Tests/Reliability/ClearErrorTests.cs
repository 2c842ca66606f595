using KvmLab.Kvm;
using KvmLab.Kvm.Interop;
using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Tests.Reliability;

using Machine = KvmLab.Machine;

/// <summary>Each host or caller mistake a notebook user can make produces a message that names the cause and the fix.</summary>
public sealed class ClearErrorTests
{
    [Fact]
    public void AMissingKvmDeviceSaysToLoadTheModuleAndEnableVirtualization()
    {
        var e = Assert.Throws<KvmException>(() => new KvmSystem("/nonexistent/kvm"));

        Assert.Equal("ENOENT", e.ErrnoSymbol);
        Assert.Equal("open /dev/kvm", e.IoctlName);
        Assert.Contains("/dev/kvm does not exist", e.Message);
        Assert.Contains("modprobe kvm_intel", e.Message);
        Assert.Contains("enable virtualization (VT-x / AMD-V, SVM) in the firmware setup", e.Message);
    }

    [Fact]
    public void APathTheProcessMayNotOpenReadWriteSaysToJoinTheKvmGroup()
    {
        // Even root may not open a read-only sysctl for writing: an honest EACCES from open(2) without dropping privileges.
        var e = Assert.Throws<KvmException>(() => new KvmSystem("/proc/sys/kernel/osrelease"));

        Assert.Equal("EACCES", e.ErrnoSymbol);
        Assert.Contains("Permission denied: add your user to the 'kvm' group (sudo usermod -aG kvm $USER", e.Message);
    }

    [Theory]
    [InlineData(Libc.EACCES)]
    [InlineData(Libc.EPERM)]
    public void TheErrnoHelperGivesTheKvmGroupHintForEveryPermissionError(int errno)
    {
        var e = KvmException.FromErrno(errno, KvmSystem.DevicePathCall);

        Assert.Contains("add your user to the 'kvm' group", e.Hint);
        Assert.StartsWith("open /dev/kvm failed: " + e.ErrnoSymbol, e.Message);
    }

    [KvmTheory]
    [InlineData(0x1000UL, 16, "overlaps the loader area 0x0..+0x8000 (IVT, GDT, page tables, stack): load it at 0x8000 or above")]
    [InlineData(0xFF_F000UL, 0x2000, "at 0xFFF000..+0x2000 does not fit in guest RAM 0x0..+0x1000000")]
    [InlineData(0xE000_0000UL, 16, "at 0xE0000000..+0x10 does not fit in guest RAM 0x0..+0x1000000")]
    public void AnImageThatIsTooLargeOrOverlapsTheLoaderAreaOrDevicesNamesTheRangeAndTheFix(ulong load, int length, string expected)
    {
        using var machine = new Machine();
        var image = new GuestImage("big", new byte[length], load, load, CpuMode.Protected);

        var e = Assert.Throws<ArgumentException>(() => machine.Load(image));

        Assert.Contains(expected, e.Message);
    }

    [KvmTheory]
    [InlineData(0xE000_0800UL, 0x1000UL)]
    [InlineData(0xE000_0000UL, 0x800UL)]
    public void AnUnalignedRamSlotNamesTheRangeAndThePageSize(ulong address, ulong size)
    {
        using var machine = new Machine();

        var e = Assert.ThrowsAny<ArgumentException>(() => machine.MapRam(address, size));

        Assert.Contains($"0x{address:X}", e.Message);
        Assert.Contains("page", e.Message);
        Assert.Contains("0x1000", e.Message);
    }

    [KvmFact]
    public void AnOverlappingRamSlotNamesBothRanges()
    {
        using var machine = new Machine();
        machine.MapRam(0xE000_0000, 0x2000);

        var e = Assert.Throws<ArgumentException>(() => machine.MapRam(0xE000_1000, 0x1000));

        Assert.Contains("0xE0001000..+0x1000", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("overlaps memory slot", e.Message);
        Assert.Contains("0xE0000000..+0x2000", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [KvmFact]
    public void PagingWithoutProtectedModeIsRefusedWithEinvalAndTheFieldToCheck()
    {
        using var machine = new Machine();
        var sregs = machine.Vcpu.GetSpecialRegisters();
        sregs.Cr0 = (sregs.Cr0 | (1UL << 31)) & ~1UL;

        var e = Assert.Throws<KvmException>(() => machine.Vcpu.SetSpecialRegisters(sregs));

        Assert.Equal("EINVAL", e.ErrnoSymbol);
        Assert.Equal("KVM_SET_SREGS", e.IoctlName);
        Assert.Contains("check that CR0.PG has CR0.PE", e.Message);
    }

    [KvmFact]
    public void InvalidMachineOptionsSayWhatIsAllowed()
    {
        var e = Assert.Throws<ArgumentException>(() => new Machine(new MachineOptions { RamSize = 0x10_0800 }));

        Assert.Contains("RamSize 0x100800 must be at least 1 MiB and a multiple of 4 KiB", e.Message);
    }
}
