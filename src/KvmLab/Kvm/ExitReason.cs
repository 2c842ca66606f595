namespace KvmLab.Kvm;

/// <summary>Why KVM_RUN returned: <c>kvm_run.exit_reason</c>, with the kernel's KVM_EXIT_* numbers.</summary>
public enum ExitReason : uint
{
    /// <summary>KVM_EXIT_UNKNOWN: the hardware exit reason KVM could not handle (see <see cref="UnknownExit"/>).</summary>
    Unknown = 0,

    /// <summary>KVM_EXIT_EXCEPTION.</summary>
    Exception = 1,

    /// <summary>KVM_EXIT_IO: a port access (IN/OUT/INS/OUTS) no in-kernel device claimed.</summary>
    Io = 2,

    /// <summary>KVM_EXIT_HYPERCALL.</summary>
    Hypercall = 3,

    /// <summary>KVM_EXIT_DEBUG: single-step or a breakpoint (see <see cref="DebugExit"/>).</summary>
    Debug = 4,

    /// <summary>KVM_EXIT_HLT: the guest halted and no in-kernel irqchip will wake it.</summary>
    Hlt = 5,

    /// <summary>KVM_EXIT_MMIO: a memory access to a guest-physical address with no RAM slot behind it.</summary>
    Mmio = 6,

    /// <summary>KVM_EXIT_IRQ_WINDOW_OPEN: the guest can take an interrupt now (request_interrupt_window).</summary>
    IrqWindowOpen = 7,

    /// <summary>KVM_EXIT_SHUTDOWN: the vCPU shut down, on x86 a triple fault.</summary>
    Shutdown = 8,

    /// <summary>KVM_EXIT_FAIL_ENTRY: the CPU refused to enter the guest (invalid guest state).</summary>
    FailEntry = 9,

    /// <summary>KVM_EXIT_INTR: KVM_RUN was interrupted by a signal or immediate_exit (a stop request).</summary>
    Intr = 10,

    /// <summary>KVM_EXIT_SET_TPR.</summary>
    SetTpr = 11,

    /// <summary>KVM_EXIT_TPR_ACCESS.</summary>
    TprAccess = 12,

    /// <summary>KVM_EXIT_NMI.</summary>
    Nmi = 16,

    /// <summary>KVM_EXIT_INTERNAL_ERROR: KVM itself failed, e.g. could not emulate an instruction.</summary>
    InternalError = 17,

    /// <summary>KVM_EXIT_WATCHDOG.</summary>
    Watchdog = 21,

    /// <summary>KVM_EXIT_SYSTEM_EVENT: shutdown, reset, crash ... requested through a firmware interface.</summary>
    SystemEvent = 24,

    /// <summary>KVM_EXIT_IOAPIC_EOI.</summary>
    IoapicEoi = 26,

    /// <summary>KVM_EXIT_HYPERV.</summary>
    HyperV = 27,

    /// <summary>KVM_EXIT_X86_RDMSR.</summary>
    X86Rdmsr = 29,

    /// <summary>KVM_EXIT_X86_WRMSR.</summary>
    X86Wrmsr = 30,

    /// <summary>KVM_EXIT_DIRTY_RING_FULL.</summary>
    DirtyRingFull = 31,

    /// <summary>KVM_EXIT_AP_RESET_HOLD.</summary>
    ApResetHold = 32,

    /// <summary>KVM_EXIT_X86_BUS_LOCK.</summary>
    X86BusLock = 33,

    /// <summary>KVM_EXIT_XEN.</summary>
    Xen = 34,

    /// <summary>KVM_EXIT_NOTIFY.</summary>
    Notify = 37,
}
