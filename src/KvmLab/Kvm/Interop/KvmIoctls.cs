namespace KvmLab.Kvm.Interop;

/// <summary>
/// ioctl request numbers from &lt;linux/kvm.h&gt; on x86-64, spelled as the kernel spells them. They are the
/// _IO/_IOR/_IOW encodings (direction, struct size, 0xAE, number) precomputed; a test compares each with gcc.
/// </summary>
internal static class KvmIoctls
{
    public const nuint KVM_GET_API_VERSION = 0xAE00;
    public const nuint KVM_CREATE_VM = 0xAE01;
    public const nuint KVM_CHECK_EXTENSION = 0xAE03;
    public const nuint KVM_GET_VCPU_MMAP_SIZE = 0xAE04;
    public const nuint KVM_GET_SUPPORTED_CPUID = 0xC008AE05;

    public const nuint KVM_CREATE_VCPU = 0xAE41;
    public const nuint KVM_SET_USER_MEMORY_REGION = 0x4020AE46;
    public const nuint KVM_SET_TSS_ADDR = 0xAE47;
    public const nuint KVM_SET_IDENTITY_MAP_ADDR = 0x4008AE48;
    public const nuint KVM_CREATE_IRQCHIP = 0xAE60;
    public const nuint KVM_IRQ_LINE = 0x4008AE61;
    public const nuint KVM_REGISTER_COALESCED_MMIO = 0x4010AE67;
    public const nuint KVM_UNREGISTER_COALESCED_MMIO = 0x4010AE68;
    public const nuint KVM_CREATE_PIT2 = 0x4040AE77;
    public const nuint KVM_IOEVENTFD = 0x4040AE79;
    public const nuint KVM_SIGNAL_MSI = 0x4020AEA5;

    public const nuint KVM_RUN = 0xAE80;
    public const nuint KVM_GET_REGS = 0x8090AE81;
    public const nuint KVM_GET_MP_STATE = 0x8004AE98;
    public const nuint KVM_SET_MP_STATE = 0x4004AE99;
    public const nuint KVM_SET_REGS = 0x4090AE82;
    public const nuint KVM_GET_SREGS = 0x8138AE83;
    public const nuint KVM_SET_SREGS = 0x4138AE84;
    public const nuint KVM_SET_CPUID2 = 0x4008AE90;
    public const nuint KVM_SET_GUEST_DEBUG = 0x4048AE9B;
    public const nuint KVM_GET_STATS_FD = 0xAECE;

    /// <summary>The API version every KVM since Linux 2.6.22 reports; anything else is not the ABI we speak.</summary>
    public const int KVM_API_VERSION = 12;

    public const uint KVM_MEM_LOG_DIRTY_PAGES = 1;
    public const uint KVM_MEM_READONLY = 2;

    public const uint KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
    public const uint KVM_IOEVENTFD_FLAG_PIO = 2;
    public const uint KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

    public const uint KVM_GUESTDBG_ENABLE = 0x1;
    public const uint KVM_GUESTDBG_SINGLESTEP = 0x2;
    public const uint KVM_GUESTDBG_USE_SW_BP = 0x10000;
    public const uint KVM_GUESTDBG_USE_HW_BP = 0x20000;

    public const ulong KVM_SYNC_X86_REGS = 1;
    public const ulong KVM_SYNC_X86_SREGS = 2;
    public const ulong KVM_SYNC_X86_EVENTS = 4;

    public const byte KVM_EXIT_IO_IN = 0;
    public const byte KVM_EXIT_IO_OUT = 1;
}
