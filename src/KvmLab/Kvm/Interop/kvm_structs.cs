using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary><c>struct kvm_userspace_memory_region</c>: KVM_SET_USER_MEMORY_REGION (size 0 deletes the slot).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_userspace_memory_region
{
    public uint slot;
    public uint flags;
    public ulong guest_phys_addr;
    public ulong memory_size;
    public ulong userspace_addr;
}

/// <summary><c>struct kvm_guest_debug</c> with the x86 <c>kvm_guest_debug_arch</c> (DR0-DR7) inlined.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct kvm_guest_debug
{
    public uint control;
    public uint pad;
    public fixed ulong debugreg[8];
}

/// <summary><c>struct kvm_ioeventfd</c>: KVM_IOEVENTFD.</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal struct kvm_ioeventfd
{
    public ulong datamatch;
    public ulong addr;
    public uint len;
    public int fd;
    public uint flags;
}

/// <summary><c>struct kvm_coalesced_mmio_zone</c>: KVM_(UN)REGISTER_COALESCED_MMIO; <c>pio</c> shares the pad.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_coalesced_mmio_zone
{
    public ulong addr;
    public uint size;
    public uint pio;
}

/// <summary><c>struct kvm_coalesced_mmio</c>: one write KVM queued instead of exiting.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct kvm_coalesced_mmio
{
    public ulong phys_addr;
    public uint len;
    public uint pio;
    public fixed byte data[8];
}

/// <summary><c>struct kvm_coalesced_mmio_ring</c> header; the entries follow it in the same page.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_coalesced_mmio_ring
{
    public uint first;
    public uint last;
}

/// <summary><c>struct kvm_msi</c>: KVM_SIGNAL_MSI.</summary>
[StructLayout(LayoutKind.Sequential, Size = 32)]
internal struct kvm_msi
{
    public uint address_lo;
    public uint address_hi;
    public uint data;
    public uint flags;
    public uint devid;
}

/// <summary><c>struct kvm_irq_level</c>: KVM_IRQ_LINE (<c>irq</c> is a union with <c>status</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_irq_level
{
    public uint irq;
    public uint level;
}

/// <summary><c>struct kvm_pit_config</c>: KVM_CREATE_PIT2.</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal struct kvm_pit_config
{
    public uint flags;
}

/// <summary><c>struct kvm_cpuid2</c> header; <c>nent</c> entries of kvm_cpuid_entry2 follow it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_cpuid2
{
    public uint nent;
    public uint padding;
}

/// <summary><c>struct kvm_cpuid_entry2</c>: one CPUID leaf/subleaf result.</summary>
[StructLayout(LayoutKind.Sequential, Size = 40)]
internal struct kvm_cpuid_entry2
{
    public uint function;
    public uint index;
    public uint flags;
    public uint eax, ebx, ecx, edx;
}
