using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary>
/// The shared page a vCPU's KVM_RUN reads its inputs from and writes its exit into (&lt;linux/kvm.h&gt;
/// <c>struct kvm_run</c>, x86-64). The exit-reason union starts at offset 32; only the members KvmLab decodes
/// are declared, each at the union's offset. The sync-regs area (<c>s</c>) starts at 304.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 2352)]
internal unsafe struct kvm_run
{
    [FieldOffset(0)] public byte request_interrupt_window;
    [FieldOffset(1)] public byte immediate_exit;
    [FieldOffset(8)] public uint exit_reason;
    [FieldOffset(12)] public byte ready_for_interrupt_injection;
    [FieldOffset(13)] public byte if_flag;
    [FieldOffset(14)] public ushort flags;
    [FieldOffset(16)] public ulong cr8;
    [FieldOffset(24)] public ulong apic_base;

    [FieldOffset(32)] public kvm_run_hw hw;
    [FieldOffset(32)] public kvm_run_fail_entry fail_entry;
    [FieldOffset(32)] public kvm_run_io io;
    [FieldOffset(32)] public kvm_debug_exit_arch debug;
    [FieldOffset(32)] public kvm_run_mmio mmio;
    [FieldOffset(32)] public kvm_run_internal @internal;
    [FieldOffset(32)] public kvm_run_system_event system_event;

    [FieldOffset(288)] public ulong kvm_valid_regs;
    [FieldOffset(296)] public ulong kvm_dirty_regs;
    [FieldOffset(304)] public kvm_sync_regs s;
}

/// <summary><c>kvm_run.hw</c> (KVM_EXIT_UNKNOWN).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_run_hw
{
    public ulong hardware_exit_reason;
}

/// <summary><c>kvm_run.fail_entry</c> (KVM_EXIT_FAIL_ENTRY).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_run_fail_entry
{
    public ulong hardware_entry_failure_reason;
    public uint cpu;
}

/// <summary><c>kvm_run.io</c> (KVM_EXIT_IO); the data lives at <c>data_offset</c> from the start of kvm_run.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_run_io
{
    public byte direction;
    public byte size;
    public ushort port;
    public uint count;
    public ulong data_offset;
}

/// <summary><c>struct kvm_debug_exit_arch</c> (x86), the payload of KVM_EXIT_DEBUG.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kvm_debug_exit_arch
{
    public uint exception;
    public uint pad;
    public ulong pc;
    public ulong dr6;
    public ulong dr7;
}

/// <summary><c>kvm_run.mmio</c> (KVM_EXIT_MMIO).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct kvm_run_mmio
{
    public ulong phys_addr;
    public fixed byte data[8];
    public uint len;
    public byte is_write;
}

/// <summary><c>kvm_run.internal</c> (KVM_EXIT_INTERNAL_ERROR).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct kvm_run_internal
{
    public uint suberror;
    public uint ndata;
    public fixed ulong data[16];
}

/// <summary><c>kvm_run.system_event</c> (KVM_EXIT_SYSTEM_EVENT).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct kvm_run_system_event
{
    public uint type;
    public uint ndata;
    public fixed ulong data[16];
}

/// <summary><c>struct kvm_sync_regs</c> (x86): registers KVM copies in and out around KVM_RUN (KVM_CAP_SYNC_REGS).</summary>
[StructLayout(LayoutKind.Sequential, Size = 520)]
internal struct kvm_sync_regs
{
    public kvm_regs regs;
    public kvm_sregs sregs;
}
