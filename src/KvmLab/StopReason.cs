namespace KvmLab;

/// <summary>Why a <see cref="Machine.Run(RunOptions?)"/> returned.</summary>
public enum StopReason
{
    /// <summary>The guest executed HLT with nothing left that could wake it (KVM_EXIT_HLT, or halted with IF=0).</summary>
    Halted,

    /// <summary>The guest wrote to isa-debug-exit; <see cref="RunResult.ExitStatus"/> holds (value &lt;&lt; 1) | 1.</summary>
    IsaDebugExit,

    /// <summary>Triple fault (KVM_EXIT_SHUTDOWN).</summary>
    Shutdown,

    /// <summary>VM entry failed (KVM_EXIT_FAIL_ENTRY): the register state is invalid for the hardware.</summary>
    FailEntry,

    /// <summary>KVM could not continue (KVM_EXIT_INTERNAL_ERROR), e.g. an instruction it could not emulate.</summary>
    InternalError,

    /// <summary>A single-step or breakpoint (KVM_EXIT_DEBUG).</summary>
    Debug,

    /// <summary>The guest asked for a shutdown, reset or crash (KVM_EXIT_SYSTEM_EVENT).</summary>
    SystemEvent,

    /// <summary>An exit reason KvmLab does not handle.</summary>
    Unsupported,

    /// <summary>The run's deadline passed.</summary>
    Timeout,

    /// <summary>The run's cancellation token was cancelled.</summary>
    Cancelled,

    /// <summary>The run reached its exit limit.</summary>
    ExitLimit,

    /// <summary>The run's stop condition matched an exit.</summary>
    Condition,

    /// <summary>One step was asked for and taken (<see cref="Machine.Step"/>).</summary>
    Stepped,
}
