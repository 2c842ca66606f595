using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary><c>struct kvm_segment</c>: a segment register's hidden descriptor cache.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_segment
{
    public ulong @base;
    public uint limit;
    public ushort selector;
    public byte type;
    public byte present, dpl, db, s, l, g, avl;
    public byte unusable;
    public byte padding;
}

/// <summary><c>struct kvm_dtable</c>: GDTR or IDTR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct kvm_dtable
{
    public ulong @base;
    public ushort limit;
    public fixed ushort padding[3];
}

/// <summary><c>struct kvm_sregs</c> (x86-64): KVM_GET_SREGS / KVM_SET_SREGS.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct kvm_sregs
{
    public kvm_segment cs, ds, es, fs, gs, ss;
    public kvm_segment tr, ldt;
    public kvm_dtable gdt, idt;
    public ulong cr0, cr2, cr3, cr4, cr8;
    public ulong efer;
    public ulong apic_base;
    public fixed ulong interrupt_bitmap[4];
}
