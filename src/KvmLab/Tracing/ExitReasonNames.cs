using KvmLab.Kvm;

namespace KvmLab.Tracing;

/// <summary>Kernel spellings of exit reasons.</summary>
internal static class ExitReasonNames
{
    /// <summary>"IO" for KVM_EXIT_IO, "MMIO", "HLT", ... and "UNSUPPORTED(n)" for numbers we do not name.</summary>
    public static string Of(ExitReason reason) => reason switch
    {
        ExitReason.Unknown => "UNKNOWN",
        ExitReason.Exception => "EXCEPTION",
        ExitReason.Io => "IO",
        ExitReason.Hypercall => "HYPERCALL",
        ExitReason.Debug => "DEBUG",
        ExitReason.Hlt => "HLT",
        ExitReason.Mmio => "MMIO",
        ExitReason.IrqWindowOpen => "IRQ_WINDOW_OPEN",
        ExitReason.Shutdown => "SHUTDOWN",
        ExitReason.FailEntry => "FAIL_ENTRY",
        ExitReason.Intr => "INTR",
        ExitReason.SetTpr => "SET_TPR",
        ExitReason.TprAccess => "TPR_ACCESS",
        ExitReason.Nmi => "NMI",
        ExitReason.InternalError => "INTERNAL_ERROR",
        ExitReason.SystemEvent => "SYSTEM_EVENT",
        ExitReason.IoapicEoi => "IOAPIC_EOI",
        ExitReason.X86Rdmsr => "X86_RDMSR",
        ExitReason.X86Wrmsr => "X86_WRMSR",
        ExitReason.X86BusLock => "X86_BUS_LOCK",
        ExitReason.Notify => "NOTIFY",
        _ => $"UNSUPPORTED({(uint)reason})",
    };
}
