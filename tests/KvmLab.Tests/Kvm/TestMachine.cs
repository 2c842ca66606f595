using KvmLab.Kvm;
using KvmLab.Loading;

namespace KvmLab.Tests.Kvm;

/// <summary>A VM with 16 MiB of RAM at 0 and one vCPU, loaded with hand-encoded guest bytes.</summary>
internal sealed class TestMachine : IDisposable
{
    public TestMachine(byte[] code, CpuMode mode = CpuMode.Real, ulong? loadAddress = null)
    {
        Host = new KvmSystem();
        Vm = Host.CreateVm();
        Ram = Vm.AllocateGuestMemory(0, PcLayout.DefaultRamSize);
        Vcpu = Vm.CreateVcpu(0);
        ulong at = loadAddress ?? (mode == CpuMode.Real ? PcLayout.DefaultRealModeLoadAddress : PcLayout.DefaultFlatLoadAddress);
        GuestLoader.Load(Vm, Ram, Vcpu, new GuestImage("test", code, at, at, mode));
    }

    public KvmSystem Host { get; }

    public Vm Vm { get; }

    public GuestMemory Ram { get; }

    public Vcpu Vcpu { get; }

    public VcpuExit Run() => Vcpu.Run();

    public void Dispose()
    {
        Vm.Dispose();
        Host.Dispose();
    }
}
