using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// The general-purpose registers, RIP and RFLAGS of a vCPU (the kernel's <c>struct kvm_regs</c>, same layout).
/// Read with <see cref="Vcpu.GetRegisters"/>, change fields, write back with <see cref="Vcpu.SetRegisters"/>.
/// </summary>
[KvmLab.Notebooks.TypeFormatterSource(KvmLab.Notebooks.TypeFormatterSourceAttribute.KvmLabSource)]
public struct Registers
{
    internal kvm_regs Raw;

    /// <summary>RAX.</summary>
    public ulong Rax { readonly get => Raw.rax; set => Raw.rax = value; }

    /// <summary>RBX.</summary>
    public ulong Rbx { readonly get => Raw.rbx; set => Raw.rbx = value; }

    /// <summary>RCX.</summary>
    public ulong Rcx { readonly get => Raw.rcx; set => Raw.rcx = value; }

    /// <summary>RDX.</summary>
    public ulong Rdx { readonly get => Raw.rdx; set => Raw.rdx = value; }

    /// <summary>RSI.</summary>
    public ulong Rsi { readonly get => Raw.rsi; set => Raw.rsi = value; }

    /// <summary>RDI.</summary>
    public ulong Rdi { readonly get => Raw.rdi; set => Raw.rdi = value; }

    /// <summary>RSP.</summary>
    public ulong Rsp { readonly get => Raw.rsp; set => Raw.rsp = value; }

    /// <summary>RBP.</summary>
    public ulong Rbp { readonly get => Raw.rbp; set => Raw.rbp = value; }

    /// <summary>R8.</summary>
    public ulong R8 { readonly get => Raw.r8; set => Raw.r8 = value; }

    /// <summary>R9.</summary>
    public ulong R9 { readonly get => Raw.r9; set => Raw.r9 = value; }

    /// <summary>R10.</summary>
    public ulong R10 { readonly get => Raw.r10; set => Raw.r10 = value; }

    /// <summary>R11.</summary>
    public ulong R11 { readonly get => Raw.r11; set => Raw.r11 = value; }

    /// <summary>R12.</summary>
    public ulong R12 { readonly get => Raw.r12; set => Raw.r12 = value; }

    /// <summary>R13.</summary>
    public ulong R13 { readonly get => Raw.r13; set => Raw.r13 = value; }

    /// <summary>R14.</summary>
    public ulong R14 { readonly get => Raw.r14; set => Raw.r14 = value; }

    /// <summary>R15.</summary>
    public ulong R15 { readonly get => Raw.r15; set => Raw.r15 = value; }

    /// <summary>RIP.</summary>
    public ulong Rip { readonly get => Raw.rip; set => Raw.rip = value; }

    /// <summary>RFLAGS.</summary>
    public ulong Rflags { readonly get => Raw.rflags; set => Raw.rflags = value; }

    /// <inheritdoc/>
    public override readonly string ToString() =>
        $"rip=0x{Raw.rip:X} rflags=0x{Raw.rflags:X} rax=0x{Raw.rax:X} rbx=0x{Raw.rbx:X} rcx=0x{Raw.rcx:X} rdx=0x{Raw.rdx:X} " +
        $"rsi=0x{Raw.rsi:X} rdi=0x{Raw.rdi:X} rsp=0x{Raw.rsp:X} rbp=0x{Raw.rbp:X}";
}
