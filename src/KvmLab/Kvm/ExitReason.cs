namespace KvmLab.Kvm;

/// <summary>kvm_run.exit_reason: why KVM_RUN returned to user space (KVM_EXIT_* in &lt;linux/kvm.h&gt;).</summary>
public enum ExitReason : uint
{
    /// <summary>KVM_EXIT_UNKNOWN: the hardware exit reason KVM could not handle is in the unknown-exit data.</summary>
    Unknown = 0,
    /// <summary>KVM_EXIT_EXCEPTION.</summary>
    Exception = 1,
    /// <summary>KVM_EXIT_IO: IN/OUT/INS/OUTS to a port no in-kernel device claims.</summary>
    Io = 2,
    /// <summary>KVM_EXIT_HYPERCALL.</summary>
    Hypercall = 3,
    /// <summary>KVM_EXIT_DEBUG: single-step, breakpoint or watchpoint under KVM_SET_GUEST_DEBUG.</summary>
    Debug = 4,
    /// <summary>KVM_EXIT_HLT: HLT without an in-kernel irqchip to wait on.</summary>
    Hlt = 5,
    /// <summary>KVM_EXIT_MMIO: a load or store to a guest-physical address no memory slot backs.</summary>
    Mmio = 6,
    /// <summary>KVM_EXIT_IRQ_WINDOW_OPEN: the guest can accept an interrupt now.</summary>
    IrqWindowOpen = 7,
    /// <summary>KVM_EXIT_SHUTDOWN: triple fault.</summary>
    Shutdown = 8,
    /// <summary>KVM_EXIT_FAIL_ENTRY: VM entry failed; the hardware reason says why.</summary>
    FailEntry = 9,
    /// <summary>KVM_EXIT_INTR: KVM_RUN was interrupted by a signal (a stop request).</summary>
    Intr = 10,
    /// <summary>KVM_EXIT_SET_TPR.</summary>
    SetTpr = 11,
    /// <summary>KVM_EXIT_TPR_ACCESS.</summary>
    TprAccess = 12,
    /// <summary>KVM_EXIT_NMI.</summary>
    Nmi = 16,
    /// <summary>KVM_EXIT_INTERNAL_ERROR: KVM itself failed (e.g. instruction emulation); suberror says how.</summary>
    InternalError = 17,
    /// <summary>KVM_EXIT_SYSTEM_EVENT: shutdown, reset or crash requested by the guest.</summary>
    SystemEvent = 24,
    /// <summary>KVM_EXIT_IOAPIC_EOI.</summary>
    IoapicEoi = 26,
    /// <summary>KVM_EXIT_X86_RDMSR.</summary>
    X86Rdmsr = 29,
    /// <summary>KVM_EXIT_X86_WRMSR.</summary>
    X86Wrmsr = 30,
    /// <summary>KVM_EXIT_X86_BUS_LOCK.</summary>
    X86BusLock = 33,
    /// <summary>KVM_EXIT_NOTIFY.</summary>
    Notify = 37,
}
