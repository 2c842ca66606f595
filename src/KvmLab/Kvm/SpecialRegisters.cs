using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// The segment, descriptor-table and control registers of a vCPU (the kernel's <c>struct kvm_sregs</c>, same
/// layout). Read with <see cref="Vcpu.GetSpecialRegisters"/>, change, write back with <see cref="Vcpu.SetSpecialRegisters"/>.
/// Segment and table properties return references so that <c>sregs.Cs.Selector = 0x8</c> changes this value.
/// </summary>
public struct SpecialRegisters
{
    internal kvm_sregs Raw;

    /// <summary>The CS register.</summary>
    [UnscopedRef] public ref Segment Cs => ref Unsafe.As<kvm_segment, Segment>(ref Raw.cs);

    /// <summary>The DS register.</summary>
    [UnscopedRef] public ref Segment Ds => ref Unsafe.As<kvm_segment, Segment>(ref Raw.ds);

    /// <summary>The ES register.</summary>
    [UnscopedRef] public ref Segment Es => ref Unsafe.As<kvm_segment, Segment>(ref Raw.es);

    /// <summary>The FS register.</summary>
    [UnscopedRef] public ref Segment Fs => ref Unsafe.As<kvm_segment, Segment>(ref Raw.fs);

    /// <summary>The GS register.</summary>
    [UnscopedRef] public ref Segment Gs => ref Unsafe.As<kvm_segment, Segment>(ref Raw.gs);

    /// <summary>The SS register.</summary>
    [UnscopedRef] public ref Segment Ss => ref Unsafe.As<kvm_segment, Segment>(ref Raw.ss);

    /// <summary>The TR register.</summary>
    [UnscopedRef] public ref Segment Tr => ref Unsafe.As<kvm_segment, Segment>(ref Raw.tr);

    /// <summary>The LDT register.</summary>
    [UnscopedRef] public ref Segment Ldt => ref Unsafe.As<kvm_segment, Segment>(ref Raw.ldt);

    /// <summary>GDTR.</summary>
    [UnscopedRef] public ref DescriptorTable Gdt => ref Unsafe.As<kvm_dtable, DescriptorTable>(ref Raw.gdt);

    /// <summary>IDTR.</summary>
    [UnscopedRef] public ref DescriptorTable Idt => ref Unsafe.As<kvm_dtable, DescriptorTable>(ref Raw.idt);

    /// <summary>CR0 (PE bit 0, PG bit 31).</summary>
    public ulong Cr0 { readonly get => Raw.cr0; set => Raw.cr0 = value; }

    /// <summary>CR2, the last page-fault address.</summary>
    public ulong Cr2 { readonly get => Raw.cr2; set => Raw.cr2 = value; }

    /// <summary>CR3, the page-table root.</summary>
    public ulong Cr3 { readonly get => Raw.cr3; set => Raw.cr3 = value; }

    /// <summary>CR4 (PAE bit 5).</summary>
    public ulong Cr4 { readonly get => Raw.cr4; set => Raw.cr4 = value; }

    /// <summary>CR8, the task priority.</summary>
    public ulong Cr8 { readonly get => Raw.cr8; set => Raw.cr8 = value; }

    /// <summary>EFER MSR (LME bit 8, LMA bit 10).</summary>
    public ulong Efer { readonly get => Raw.efer; set => Raw.efer = value; }

    /// <summary>IA32_APIC_BASE MSR.</summary>
    public ulong ApicBase { readonly get => Raw.apic_base; set => Raw.apic_base = value; }

    /// <inheritdoc/>
    public override readonly string ToString() =>
        $"cr0=0x{Raw.cr0:X} cr3=0x{Raw.cr3:X} cr4=0x{Raw.cr4:X} efer=0x{Raw.efer:X} cs.sel=0x{Raw.cs.selector:X4} cs.base=0x{Raw.cs.@base:X} gdt=0x{Raw.gdt.@base:X}+0x{Raw.gdt.limit:X}";
}
