using System.Runtime.InteropServices;
using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Tracing;

namespace KvmLab;

// Guest debugging: single-step one instruction at a time and hardware execute breakpoints, through
// KVM_SET_GUEST_DEBUG (QEMU's gdbstub uses the same ioctl through kvm_update_guest_debug).
//
// What works where (measured on the software kvm_pvm backend, and how hardware KVM behaves):
// - Single-step (KVM_GUESTDBG_SINGLESTEP) works on both: one KVM_EXIT_DEBUG per instruction. An instruction that
//   exits to user space (IN, OUT, MMIO) first produces its IO/MMIO exit, then the DEBUG exit once it completes.
// - Software breakpoints (an INT3 byte patched into guest code) end in KVM_EXIT_INTERNAL_ERROR on kvm_pvm, so
//   KvmLab does not use them.
// - Hardware execute breakpoints (DR0-DR3, KVM_GUESTDBG_USE_HW_BP) fire on both, but resuming at the breakpoint
//   fires it again. So, as gdb does, a run that starts where the last one stopped at a breakpoint first steps
//   one instruction with the breakpoints disarmed, then re-arms them. Hardware has four, and so does KvmLab.
// - Hardware data watchpoints never fire on kvm_pvm; KvmLab offers none.
public sealed partial class Machine
{
    private const int HardwareBreakpointSlots = 4;
    private const int MaxInstructionLength = 15;
    private const ulong Cr0ProtectionEnable = 1;
    private const ulong EferLongModeActive = 1UL << 10;

    private readonly List<ulong> _breakpoints = new();
    private bool _singleStepping;
    private ulong? _stepTrapOwedAt;
    private bool _resumeOverBreakpoint;
    private bool? _supportsGuestDebug;

    /// <summary>Whether this host's KVM offers guest debugging (KVM_CAP_SET_GUEST_DEBUG): single-step and breakpoints.</summary>
    public bool SupportsGuestDebug => _supportsGuestDebug ??= Kvm.CheckExtension(KvmCapability.SetGuestDebug) > 0;

    /// <summary>The armed hardware execute breakpoints (linear addresses), at most four.</summary>
    public IReadOnlyList<ulong> Breakpoints => _breakpoints;

    /// <summary>The breakpoint the last <see cref="Run(RunOptions?)"/> or <see cref="Step"/> stopped at, or null.</summary>
    public ulong? LastBreakpoint { get; private set; }

    /// <summary>
    /// Arms a hardware execute breakpoint (DR0-DR3) at <paramref name="linearAddress"/>: a run stops with
    /// <see cref="StopReason.Debug"/> before the instruction there executes. The address is linear: in the flat
    /// protected and long modes it is the RIP value, in real mode CS base + IP (the guest-physical address of the
    /// instruction in the image). The next run resumes past the breakpoint, which stays armed.
    /// </summary>
    /// <exception cref="NotSupportedException">The host lacks KVM_CAP_SET_GUEST_DEBUG.</exception>
    /// <exception cref="InvalidOperationException">Four breakpoints are armed already (x86 has four debug address registers).</exception>
    public void AddBreakpoint(ulong linearAddress)
    {
        ThrowIfDisposed();
        RequireGuestDebug();
        if (_breakpoints.Contains(linearAddress)) return;
        if (_breakpoints.Count == HardwareBreakpointSlots)
            throw new InvalidOperationException(
                $"x86 has {HardwareBreakpointSlots} debug address registers and all hold breakpoints ({string.Join(", ", _breakpoints.Select(b => $"0x{b:x}"))}): remove one first.");
        _breakpoints.Add(linearAddress);
        ApplyGuestDebug();
    }

    /// <summary>Disarms the breakpoint at <paramref name="linearAddress"/>; false if there was none.</summary>
    public bool RemoveBreakpoint(ulong linearAddress)
    {
        ThrowIfDisposed();
        if (!_breakpoints.Remove(linearAddress)) return false;
        ApplyGuestDebug();
        return true;
    }

    /// <summary>Disarms every breakpoint.</summary>
    public void ClearBreakpoints()
    {
        ThrowIfDisposed();
        if (_breakpoints.Count == 0) return;
        _breakpoints.Clear();
        ApplyGuestDebug();
    }

    /// <summary>
    /// Executes exactly one guest instruction under single-step (KVM_GUESTDBG_SINGLESTEP) and returns it: where it
    /// was, its bytes, the mode, the registers after it and the device accesses it made (which the run loop dispatched
    /// as usual). Breakpoints are disarmed for the step, so stepping from a breakpoint moves past it.
    /// <paramref name="timeout"/> (default 1 s) bounds an instruction that never completes, such as a HLT nothing wakes.
    /// </summary>
    /// <exception cref="NotSupportedException">The host lacks KVM_CAP_SET_GUEST_DEBUG.</exception>
    public InstructionStep StepInstruction(TimeSpan? timeout = null)
    {
        ThrowIfDisposed();
        RequireGuestDebug();
        var before = Vcpu.GetRegisters();
        var sregs = Vcpu.GetSpecialRegisters();
        var mode = ModeOf(sregs);
        var linear = Linear(before.Rip, sregs);
        var code = ReadCode(linear);
        var first = Trace.Count;

        var ctx = new RunContext(Deadline(timeout ?? TimeSpan.FromSeconds(1)), default, null, HaltChecks: false);
        _resumeOverBreakpoint = false;
        LastBreakpoint = null;
        BeginRun(ref ctx);
        StopReason stop;
        try
        {
            stop = StepWithBreakpointsDisarmed(ref ctx);
        }
        finally
        {
            EndRun();
        }
        LastStop = stop;

        var accesses = new List<ResolvedExit>();
        for (var i = first; i < Trace.Count; i++)
            if (Trace[i].Access != TraceAccess.None) accesses.Add(Trace.Resolve(i));
        return new InstructionStep(before.Rip, linear, mode, code, Vcpu.GetRegisters(), stop, accesses);
    }

    /// <summary>
    /// Single-steps up to <paramref name="count"/> instructions: an instruction-level trace. Stops early at the
    /// instruction that ends the run (debug-exit, halt, fault); that instruction is the last element.
    /// </summary>
    public IReadOnlyList<InstructionStep> StepInstructions(int count, TimeSpan? timeoutPerInstruction = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var steps = new List<InstructionStep>(count);
        while (steps.Count < count)
        {
            var step = StepInstruction(timeoutPerInstruction);
            steps.Add(step);
            if (!step.Completed) break;
        }
        return steps;
    }

    /// <summary>The CPU mode of the vCPU now (real, protected, or long with a 64-bit code segment).</summary>
    public CpuMode CurrentMode
    {
        get
        {
            ThrowIfDisposed();
            return ModeOf(Vcpu.GetSpecialRegisters());
        }
    }

    /// <summary>
    /// Called before the first KVM_RUN of <see cref="Step"/> and <see cref="Run(RunOptions?)"/>: if the last run
    /// stopped at a breakpoint, executes that one instruction with breakpoints disarmed (else it would fire again
    /// at once). Returns why the run must stop if that instruction ended it, else null.
    /// </summary>
    private StopReason? ResumeFromBreakpoint(ref RunContext ctx)
    {
        LastBreakpoint = null;
        if (!_resumeOverBreakpoint) return null;
        _resumeOverBreakpoint = false;
        var stop = StepWithBreakpointsDisarmed(ref ctx);
        return stop == StopReason.Debug ? null : stop;
    }

    private StopReason StepWithBreakpointsDisarmed(ref RunContext ctx)
    {
        Vcpu.SetGuestDebug(singleStep: true);
        _singleStepping = true;
        try
        {
            StopReason? stop;
            while (true)
            {
                stop = RunOnce(ref ctx);
                var exit = Vcpu.LastExit;
                // A trap owed for the previous step (hardware KVM raises it on re-entry, with no instruction run): skip it.
                if (stop == StopReason.Debug && _stepTrapOwedAt is { } owed && exit.Debug.Pc == owed)
                {
                    _stepTrapOwedAt = null;
                    continue;
                }
                _stepTrapOwedAt = null;
                if (stop is not null) return stop.Value;
                // An OUT or MMIO-write exit comes back with the instruction already complete. kvm_pvm then drops the
                // single-step trap and would run one more instruction unseen: the step ends here instead.
                if (IsCompletedWrite(exit))
                {
                    _stepTrapOwedAt = LinearRip();
                    _stopDetail = "single step completed by its own write exit";
                    return StopReason.Debug;
                }
            }
        }
        finally
        {
            _singleStepping = false;
            ApplyGuestDebug();
        }
    }

    /// <summary>Run-loop hook for KVM_EXIT_DEBUG: names the event and remembers a breakpoint stop for the next resume.</summary>
    private void OnDebugExit(in DebugExit debug)
    {
        if (_singleStepping)
        {
            _stopDetail = $"single step to 0x{debug.Pc:x}";
            return;
        }
        if (_breakpoints.Contains(debug.Pc))
        {
            LastBreakpoint = debug.Pc;
            _resumeOverBreakpoint = true;
            _stopDetail = $"breakpoint at 0x{debug.Pc:x}";
            return;
        }
        _stopDetail = debug.ToString();
    }

    private static bool IsCompletedWrite(in VcpuExit exit) =>
        (exit.Reason == ExitReason.Io && exit.Io.Direction == IoDirection.Out) || (exit.Reason == ExitReason.Mmio && exit.Mmio.IsWrite);

    private ulong LinearRip() => Linear(Vcpu.GetRegisters().Rip, Vcpu.GetSpecialRegisters());

    // Long mode ignores the CS base; real and protected mode add it (what a hardware breakpoint compares against).
    private static ulong Linear(ulong rip, in SpecialRegisters sregs) => ModeOf(sregs) == CpuMode.Long ? rip : sregs.Cs.Base + rip;

    private void ResetDebugState()
    {
        _stepTrapOwedAt = null;
        _resumeOverBreakpoint = false;
        LastBreakpoint = null;
    }

    private void ApplyGuestDebug() => Vcpu.SetGuestDebug(false, CollectionsMarshal.AsSpan(_breakpoints));

    private void RequireGuestDebug()
    {
        if (!SupportsGuestDebug)
            throw new NotSupportedException("This host's KVM does not report KVM_CAP_SET_GUEST_DEBUG: single-step and breakpoints are unavailable.");
    }

    private byte[] ReadCode(ulong linear)
    {
        if (linear < Ram.GuestPhysicalAddress || linear >= Ram.End) return [];
        var length = (int)Math.Min(MaxInstructionLength, Ram.End - linear);
        return Ram.GetSpan(linear, length).ToArray();
    }

    private static CpuMode ModeOf(in SpecialRegisters sregs)
    {
        if ((sregs.Cr0 & Cr0ProtectionEnable) == 0) return CpuMode.Real;
        var cs = sregs.Cs;
        return (sregs.Efer & EferLongModeActive) != 0 && cs.L != 0 ? CpuMode.Long : CpuMode.Protected;
    }
}
