using KvmLab.Kvm;
using KvmLab.Kvm.Interop;
using KvmLab.Testing;

namespace KvmLab.Tests.Kvm;

[Collection(ProcessWideCollection.Name)]
public sealed class LifetimeTests
{
    // Far above any descriptor this process opens, so it is never a live fd.
    private const int BadFd = 1_000_000;

    [KvmFact]
    public void EveryVcpuCallAfterDisposeThrowsObjectDisposed()
    {
        var m = new TestMachine([0xF4]);
        m.Vcpu.Dispose();
        Assert.Throws<ObjectDisposedException>(() => m.Vcpu.Run());
        Assert.Throws<ObjectDisposedException>(() => m.Vcpu.GetRegisters());
        Assert.Throws<ObjectDisposedException>(() => m.Vcpu.SetRegisters(default));
        Assert.Throws<ObjectDisposedException>(() => m.Vcpu.GetSpecialRegisters());
        Assert.Throws<ObjectDisposedException>(() => m.Vcpu.SetGuestDebug(true));
        Assert.Throws<ObjectDisposedException>(() => m.Vcpu.Rip);
        m.Vcpu.RequestStop();
        m.Dispose();
        Assert.Throws<ObjectDisposedException>(() => m.Vm.CreateVcpu(1));
        Assert.Throws<ObjectDisposedException>(() => m.Vm.CreateIrqchip());
        Assert.Throws<ObjectDisposedException>(() => m.Ram.GetSpan(0, 1));
        Assert.Throws<ObjectDisposedException>(() => m.Host.CreateVm());
    }

    [KvmFact]
    public void AVmOnABadDescriptorReportsEbadfFromEveryCall()
    {
        using var host = new KvmSystem();
        using var vm = new Vm(host, new KvmFileDescriptor(BadFd));
        using var ram = GuestMemory.Allocate(0, 0x1000);
        Action[] calls =
        [
            () => vm.CheckExtension(KvmCapability.UserMemory),
            () => vm.SetTssAddress(),
            () => vm.SetIdentityMapAddress(),
            () => vm.CreateIrqchip(),
            () => vm.CreatePit2(),
            () => vm.SetIrqLine(4, true),
            () => vm.SignalMsi(PcLayout.LocalApicBase, 0x30),
            () => vm.RegisterCoalescedMmio(PcLayout.PciMmioWindowBase, 0x1000),
            () => vm.CreateVcpu(0),
            () => vm.AddMemorySlot(0, 0, 0x1000, ram.HostAddress),
        ];
        foreach (var call in calls)
        {
            var error = Assert.Throws<KvmException>(call);
            Assert.Equal(Libc.EBADF, error.Errno);
            Assert.Contains("EBADF", error.Message);
        }
    }

    [KvmFact]
    public void AVcpuOnABadDescriptorReportsEbadfFromEveryCall()
    {
        var mapping = MappedRegion.Map(0x3000, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, null, "test");
        using var vcpu = new Vcpu(null, 0, new KvmFileDescriptor(BadFd), mapping, 0, syncRegs: false);
        Action[] calls =
        [
            () => vcpu.Run(),
            () => vcpu.GetRegisters(),
            () => vcpu.SetRegisters(default),
            () => vcpu.GetSpecialRegisters(),
            () => vcpu.SetSpecialRegisters(default),
            () => vcpu.SetGuestDebug(true),
            () => vcpu.SetCpuid([]),
            () => _ = vcpu.Rip,
        ];
        foreach (var call in calls)
        {
            var error = Assert.Throws<KvmException>(call);
            Assert.Equal(Libc.EBADF, error.Errno);
            Assert.Contains("disposed", error.Hint);
        }
    }

    [KvmFact]
    public void TwoThousandCreateDisposeCyclesLeakNoDescriptorsOrMappings()
    {
        using var host = new KvmSystem();
        Cycle(host, TestScale.Count(100, 10));
        var (fds, maps) = Census();
        var cycles = TestScale.Count(2000, 40);
        Cycle(host, cycles);
        var (fdsAfter, mapsAfter) = Census();
        // A leak would add one or more entries per cycle (2000, or 80 under emulation); the slack absorbs the
        // runtime's own growth (JIT code heaps, GC regions), which measured about 20 mappings here.
        Assert.InRange(fdsAfter, 0, fds + 4);
        Assert.InRange(mapsAfter, 0, maps + 64);

        static (int Fds, int Maps) Census()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return (Directory.GetFiles("/proc/self/fd").Length, File.ReadAllLines("/proc/self/maps").Length);
        }

        static void Cycle(KvmSystem host, int count)
        {
            for (int i = 0; i < count; i++)
            {
                using var vm = host.CreateVm();
                vm.AllocateGuestMemory(0, 0x10000);
                using var events = vm.RegisterIoEventFd(0x510, 2, isPio: true);
                vm.CreateVcpu(0);
            }
        }
    }
}
