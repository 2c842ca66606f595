using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary><c>struct kvm_regs</c> (x86-64): KVM_GET_REGS / KVM_SET_REGS.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_regs
{
    public ulong rax, rbx, rcx, rdx;
    public ulong rsi, rdi, rsp, rbp;
    public ulong r8, r9, r10, r11;
    public ulong r12, r13, r14, r15;
    public ulong rip, rflags;
}
