namespace KvmLab.Kvm;

/// <summary>
/// The KVM_CAP_* numbers KvmLab probes with KVM_CHECK_EXTENSION. Most answer 0 (absent) or 1 (present); the ones
/// documented as counts or offsets answer that number.
/// </summary>
internal enum KvmCapability
{
    /// <summary>KVM_CAP_IRQCHIP: an in-kernel PIC/IOAPIC/LAPIC (KVM_CREATE_IRQCHIP).</summary>
    Irqchip = 0,

    /// <summary>KVM_CAP_HLT: HLT exits to userspace when there is no in-kernel irqchip.</summary>
    Hlt = 1,

    /// <summary>KVM_CAP_USER_MEMORY: guest RAM from host memory slots (KVM_SET_USER_MEMORY_REGION).</summary>
    UserMemory = 3,

    /// <summary>KVM_CAP_SET_TSS_ADDR: KVM_SET_TSS_ADDR is available.</summary>
    SetTssAddress = 4,

    /// <summary>KVM_CAP_EXT_CPUID: KVM_GET_SUPPORTED_CPUID / KVM_SET_CPUID2.</summary>
    ExtendedCpuid = 7,

    /// <summary>KVM_CAP_NR_VCPUS: the recommended number of vCPUs per VM.</summary>
    RecommendedVcpus = 9,

    /// <summary>KVM_CAP_NR_MEMSLOTS: how many memory slots a VM may have.</summary>
    MemorySlots = 10,

    /// <summary>KVM_CAP_COALESCED_MMIO: the answer is the page offset of the coalesced ring in the vCPU mapping.</summary>
    CoalescedMmio = 15,

    /// <summary>KVM_CAP_SET_GUEST_DEBUG: single-step and breakpoints (KVM_SET_GUEST_DEBUG).</summary>
    SetGuestDebug = 23,

    /// <summary>KVM_CAP_IRQ_ROUTING: GSI routing tables (KVM_SET_GSI_ROUTING).</summary>
    IrqRouting = 25,

    /// <summary>KVM_CAP_IRQFD: eventfd-triggered interrupts.</summary>
    Irqfd = 32,

    /// <summary>KVM_CAP_PIT2: an in-kernel i8254 PIT (KVM_CREATE_PIT2).</summary>
    Pit2 = 33,

    /// <summary>KVM_CAP_IOEVENTFD: guest writes signal an eventfd without exiting (KVM_IOEVENTFD).</summary>
    IoEventFd = 36,

    /// <summary>KVM_CAP_SET_IDENTITY_MAP_ADDR: KVM_SET_IDENTITY_MAP_ADDR is available.</summary>
    SetIdentityMapAddress = 37,

    /// <summary>KVM_CAP_MAX_VCPUS: the hard maximum of vCPUs per VM.</summary>
    MaxVcpus = 66,

    /// <summary>KVM_CAP_SYNC_REGS: the answer is the mask of register sets KVM mirrors in kvm_run.</summary>
    SyncRegs = 74,

    /// <summary>KVM_CAP_SIGNAL_MSI: KVM_SIGNAL_MSI injects a message-signalled interrupt.</summary>
    SignalMsi = 77,

    /// <summary>KVM_CAP_READONLY_MEM: read-only memory slots (writes exit as MMIO).</summary>
    ReadonlyMemory = 81,

    /// <summary>KVM_CAP_IMMEDIATE_EXIT: kvm_run.immediate_exit makes KVM_RUN return EINTR at once.</summary>
    ImmediateExit = 136,

    /// <summary>KVM_CAP_COALESCED_PIO: coalesced zones may cover port I/O.</summary>
    CoalescedPio = 162,

    /// <summary>KVM_CAP_BINARY_STATS_FD: KVM_GET_STATS_FD on a VM or vCPU fd gives its statistics (Linux 5.14+).</summary>
    BinaryStatsFd = 203,
}
