using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Tracing;

namespace KvmLab;

// Guest debugging: single-step one instruction at a time and hardware execute breakpoints, through
// KVM_SET_GUEST_DEBUG (QEMU's gdbstub uses the same ioctl through kvm_update_guest_debug).
//
// What differs between KVM backends is measured once per process by KvmBehaviour (Kvm/KvmBehaviour.cs), not assumed:
// - Single-step (KVM_GUESTDBG_SINGLESTEP) gives one KVM_EXIT_DEBUG per instruction everywhere. An instruction that
//   exits to user space (IN, OUT, MMIO) first produces its IO/MMIO exit. If KVM left RIP at it (port I/O and MMIO
//   reads on SVM/VMX), the next KVM_RUN completes it and raises the step's trap. If KVM already completed it (MMIO
//   writes everywhere, OUT on kvm_pvm), the trap is lost (x86_emulate_instruction's "FIXME: return into emulator if
//   single-stepping"): the step ends at the write exit instead of running one more instruction unseen.
// - Breakpoints: INT3 patched into guest RAM (KVM_GUESTDBG_USE_SW_BP) where it works (SVM/VMX), any number of them;
//   hardware execute breakpoints in DR0-DR3 (KVM_GUESTDBG_USE_HW_BP) where it does not (kvm_pvm gives
//   KVM_EXIT_INTERNAL_ERROR for INT3), four at most. INT3 bytes are in RAM only while the guest runs, so reading guest
//   code (stepping, disassembly) never sees them. Resuming at a breakpoint first single-steps that instruction with
//   breakpoints removed, as gdb does, then re-arms them.
// - Data watchpoints (DR0-DR3 with RW = write or read/write) where they fire (SVM/VMX; never on kvm_pvm).
//
// The run loop stays the machine's: it calls in here when a run begins and ends (INT3 bytes in and out of RAM), before
// its first KVM_RUN (resuming over a breakpoint) and on KVM_EXIT_DEBUG; a step runs through the machine's run loop.
/// <summary>
/// The debugger of one <see cref="Machine"/> (<see cref="Machine.Debugger"/>): single-stepping
/// (<see cref="StepInstruction"/>), breakpoints and data watchpoints, through KVM_SET_GUEST_DEBUG as QEMU's gdbstub
/// does. Runs stop at them with <see cref="StopReason.Debug"/>.
/// </summary>
public sealed class MachineDebugger
{
    private const int DebugAddressRegisters = 4;
    private const int MaxInstructionLength = 15;
    private const byte Int3 = 0xCC;

    private readonly Machine _machine;
    private readonly List<ulong> _breakpoints = new();
    private readonly List<HardwareBreakpoint> _watchpoints = new();
    private readonly Dictionary<ulong, byte> _patchedBytes = new();
    private bool _singleStepping;
    private ulong? _stepTrapOwedAt;
    private bool _resumeOverBreakpoint;
    private bool? _supportsGuestDebug;
    // Between the machine's BeginRun and EndRun: the only time INT3 bytes are in RAM.
    private bool _running;

    // supportsGuestDebug: false for a machine without KVM (Machine.CreateDetached); null asks KVM on first use.
    internal MachineDebugger(Machine machine, bool? supportsGuestDebug = null)
    {
        _machine = machine;
        _supportsGuestDebug = supportsGuestDebug;
    }

    private Vcpu Vcpu => _machine.Vcpu;

    private GuestMemory Ram => _machine.Ram;

    /// <summary>Whether this host's KVM offers guest debugging (KVM_CAP_SET_GUEST_DEBUG): single-step and breakpoints.</summary>
    public bool SupportsGuestDebug => _supportsGuestDebug ??= _machine.Kvm.CheckExtension(KvmCapability.SetGuestDebug) > 0;

    /// <summary>This host's measured KVM behaviour (probed once per process on first use; see <see cref="KvmBehaviour"/>).</summary>
    public KvmBehaviour Behaviour => KvmBehaviour.Current;

    /// <summary>
    /// True when breakpoints are INT3 bytes (KVM_GUESTDBG_USE_SW_BP; any number, in RAM), false when they are hardware
    /// execute breakpoints (DR0-DR3; four at most, shared with watchpoints). Decided by what this host's KVM measurably
    /// supports (<see cref="KvmBehaviour.SoftwareBreakpoints"/>).
    /// </summary>
    public bool UsesSoftwareBreakpoints => SupportsGuestDebug && Behaviour.SoftwareBreakpoints;

    /// <summary>The armed breakpoints (linear addresses).</summary>
    public IReadOnlyList<ulong> Breakpoints => _breakpoints;

    /// <summary>The armed data watchpoints.</summary>
    public IReadOnlyList<HardwareBreakpoint> Watchpoints => _watchpoints;

    /// <summary>The breakpoint the last <see cref="Machine.Run(RunOptions?)"/> or <see cref="Machine.Step"/> stopped at, or null.</summary>
    public ulong? LastBreakpoint { get; private set; }

    /// <summary>The watchpoint the last run stopped at (it stops after the access), or null.</summary>
    public HardwareBreakpoint? LastWatchpoint { get; private set; }

    /// <summary>
    /// Arms a breakpoint at <paramref name="linearAddress"/>: a run stops with <see cref="StopReason.Debug"/> before the
    /// instruction there executes. The address is linear: in the flat protected and long modes it is the RIP value, in
    /// real mode CS base + IP (the guest-physical address of the instruction in the image). The next run resumes past
    /// the breakpoint, which stays armed. An INT3 in guest RAM where this KVM supports it
    /// (<see cref="UsesSoftwareBreakpoints"/>), else a hardware execute breakpoint.
    /// </summary>
    /// <exception cref="NotSupportedException">The host lacks KVM_CAP_SET_GUEST_DEBUG.</exception>
    /// <exception cref="ArgumentException">An INT3 breakpoint outside guest RAM.</exception>
    /// <exception cref="InvalidOperationException">All four debug address registers are in use (hardware breakpoints).</exception>
    public void AddBreakpoint(ulong linearAddress)
    {
        _machine.ThrowIfDisposed();
        RequireGuestDebug();
        if (_breakpoints.Contains(linearAddress)) return;
        if (!UsesSoftwareBreakpoints && !Behaviour.HardwareBreakpoints)
            throw new NotSupportedException(
                $"This host's KVM ({Behaviour.Backend.ModuleName()}) fires neither INT3 nor hardware execute breakpoints (measured by KvmBehaviour's probe); "
                + "single-step to the instruction instead (StepInstruction).");
        if (UsesSoftwareBreakpoints)
        {
            if (!Ram.Contains(linearAddress, 1))
                throw new ArgumentException($"An INT3 breakpoint goes into guest RAM ({Ram}); 0x{linearAddress:x} is outside it.", nameof(linearAddress));
        }
        else
        {
            RequireFreeDebugRegister("breakpoints");
        }
        _breakpoints.Add(linearAddress);
        ApplyGuestDebug();
    }

    /// <summary>Disarms the breakpoint at <paramref name="linearAddress"/>; false if there was none.</summary>
    public bool RemoveBreakpoint(ulong linearAddress)
    {
        _machine.ThrowIfDisposed();
        if (!_breakpoints.Remove(linearAddress)) return false;
        ApplyGuestDebug();
        return true;
    }

    /// <summary>Disarms every breakpoint.</summary>
    public void ClearBreakpoints()
    {
        _machine.ThrowIfDisposed();
        if (_breakpoints.Count == 0) return;
        _breakpoints.Clear();
        ApplyGuestDebug();
    }

    /// <summary>
    /// Arms a data watchpoint in a debug address register: a run stops with <see cref="StopReason.Debug"/> right after
    /// an instruction writes (or, with <see cref="BreakpointKind.ReadWrite"/>, reads or writes) any of the
    /// <paramref name="length"/> bytes (1, 2, 4 or 8, aligned) at <paramref name="linearAddress"/>.
    /// <see cref="LastWatchpoint"/> says which fired.
    /// </summary>
    /// <exception cref="NotSupportedException">This KVM does not fire data watchpoints (measured: kvm_pvm), or lacks guest debugging.</exception>
    /// <exception cref="InvalidOperationException">All four debug address registers are in use.</exception>
    public void AddWatchpoint(ulong linearAddress, int length = 1, BreakpointKind kind = BreakpointKind.Write)
    {
        _machine.ThrowIfDisposed();
        RequireGuestDebug();
        if (kind == BreakpointKind.Execute)
            throw new ArgumentException("A watchpoint watches data (Write or ReadWrite); use AddBreakpoint for instructions.", nameof(kind));
        if (!Behaviour.DataWatchpoints)
            throw new NotSupportedException(
                $"This host's KVM ({Behaviour.Backend.ModuleName()}) never fires hardware data watchpoints (measured by KvmBehaviour's probe); "
                + "run on hardware KVM (kvm_intel or kvm_amd), or single-step and compare memory.");
        var watchpoint = new HardwareBreakpoint(linearAddress, kind, length);
        watchpoint.Validate();
        if (_watchpoints.Contains(watchpoint)) return;
        RequireFreeDebugRegister("breakpoints and watchpoints");
        _watchpoints.Add(watchpoint);
        ApplyGuestDebug();
    }

    /// <summary>Disarms the watchpoints at <paramref name="linearAddress"/>; false if there were none.</summary>
    public bool RemoveWatchpoint(ulong linearAddress)
    {
        _machine.ThrowIfDisposed();
        if (_watchpoints.RemoveAll(w => w.Address == linearAddress) == 0) return false;
        ApplyGuestDebug();
        return true;
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
        _machine.ThrowIfDisposed();
        RequireGuestDebug();
        var before = Vcpu.GetRegisters();
        var sregs = Vcpu.GetSpecialRegisters();
        var mode = ModeOf(sregs);
        var linear = Linear(before.Rip, sregs);
        var code = ReadCode(linear);
        var trace = _machine.Trace;
        var first = trace.Count;

        _resumeOverBreakpoint = false;
        LastBreakpoint = null;
        var stop = _machine.RunOneStep(timeout ?? TimeSpan.FromSeconds(1));

        var accesses = new List<ResolvedExit>();
        for (var i = first; i < trace.Count; i++)
            if (trace[i].Access != TraceAccess.None) accesses.Add(trace.Resolve(i));
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
            _machine.ThrowIfDisposed();
            return ModeOf(Vcpu.GetSpecialRegisters());
        }
    }

    /// <summary>Run-loop hook when a run begins: the INT3 bytes go into RAM for as long as the vCPU runs.</summary>
    internal void BeginRun()
    {
        _running = true;
        if (_breakpoints.Count > 0) InsertSoftwareBreakpoints();
    }

    /// <summary>Run-loop hook when a run ends: the guest's own bytes go back where INT3 bytes were.</summary>
    internal void EndRun()
    {
        _running = false;
        if (_breakpoints.Count > 0) RemoveSoftwareBreakpoints();
    }

    /// <summary>
    /// Called before the first KVM_RUN of <see cref="Machine.Step"/> and <see cref="Machine.Run(RunOptions?)"/>: if
    /// the last run stopped at a breakpoint, executes that one instruction with breakpoints disarmed (else it would
    /// fire again at once). Returns why the run must stop if that instruction ended it, else null.
    /// </summary>
    internal StopReason? ResumeFromBreakpoint(ref Machine.RunContext ctx)
    {
        LastBreakpoint = null;
        LastWatchpoint = null;
        if (!_resumeOverBreakpoint) return null;
        _resumeOverBreakpoint = false;
        var stop = StepWithBreakpointsDisarmed(ref ctx);
        return stop == StopReason.Debug ? null : stop;
    }

    /// <summary>Single-steps one instruction within a run of the machine (between <see cref="BeginRun"/> and
    /// <see cref="EndRun"/>), breakpoints disarmed; returns why the run must stop (<see cref="StopReason.Debug"/>: the
    /// step completed).</summary>
    internal StopReason StepWithBreakpointsDisarmed(ref Machine.RunContext ctx)
    {
        RemoveSoftwareBreakpoints();
        _singleStepping = true;
        try
        {
            StopReason? stop;
            while (true)
            {
                // Re-armed before every KVM_RUN, as QEMU's gdbstub does: KVM keeps the trap flag set only while RIP
                // is where KVM_SET_GUEST_DEBUG found it (x86.c __kvm_set_rflags), and an instruction its emulator
                // completed (an MMIO access) moved RIP.
                Vcpu.SetGuestDebug(singleStep: true);
                // The ioctl above is not guest time: the KVM_RUN starts now.
                stop = _machine.RunOnceEnteringNow(ref ctx);
                var exit = Vcpu.LastExit;
                // A trap owed by the previous step, which ended at its completed access on a KVM that still delivers
                // the trap on re-entry (KvmBehaviour says Delivered), comes with no instruction run: skip it.
                if (stop == StopReason.Debug && _stepTrapOwedAt is { } owed && exit.Debug.Pc == owed)
                {
                    _stepTrapOwedAt = null;
                    continue;
                }
                _stepTrapOwedAt = null;
                if (stop is not null) return stop.Value;
                // An access KVM already completed (RIP past it) may have lost its trap: the step ends here rather than
                // run one more instruction unseen. Where the trap still comes, it is owed and skipped on the next step.
                // An access KVM left at its instruction is completed, and trapped, by the next KVM_RUN.
                if (IsCompletedAccess(exit, out var trap))
                {
                    _stepTrapOwedAt = trap == StepTrap.Delivered ? LinearRip() : null;
                    _machine.SetStopDetail("single step completed by its own access exit");
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

    /// <summary>Run-loop hook for KVM_EXIT_DEBUG: names the event (the run's stop detail) and remembers a breakpoint
    /// stop for the next resume.</summary>
    internal StopDetail OnDebugExit(in DebugExit debug)
    {
        if (_singleStepping) return StopDetail.SingleStep(debug);
        if (_breakpoints.Contains(debug.Pc) && (debug.Exception == BreakpointVector || !UsesSoftwareBreakpoints))
        {
            LastBreakpoint = debug.Pc;
            _resumeOverBreakpoint = true;
            return StopDetail.Breakpoint(debug);
        }
        // DR0-DR3 hold the hardware execute breakpoints first, then the watchpoints (HardwareSlots), walked here
        // without building that array: a debug exit allocates nothing.
        var executeSlots = UsesSoftwareBreakpoints ? 0 : _breakpoints.Count;
        for (var i = executeSlots; i < executeSlots + _watchpoints.Count; i++)
        {
            if ((debug.Dr6 & (1UL << i)) == 0) continue;
            var watchpoint = _watchpoints[i - executeSlots];
            LastWatchpoint = watchpoint;
            return StopDetail.Watchpoint(debug, watchpoint);
        }
        return StopDetail.Debug(debug);
    }

    private bool IsCompletedAccess(in VcpuExit exit, out StepTrap trap)
    {
        trap = StepTrap.Other;
        bool isPio, isWrite;
        if (exit.Reason == ExitReason.Io) (isPio, isWrite) = (true, exit.Io.Direction == IoDirection.Out);
        else if (exit.Reason == ExitReason.Mmio) (isPio, isWrite) = (false, exit.Mmio.IsWrite);
        else return false;
        var behaviour = Behaviour;
        if (!behaviour.IsRipPast(isPio, isWrite)) return false;
        trap = isPio ? behaviour.StepOverOut : behaviour.StepOverMmioWrite;
        return true;
    }

    private ulong LinearRip() => Linear(Vcpu.GetRegisters().Rip, Vcpu.GetSpecialRegisters());

    // Long mode ignores the CS base; real and protected mode add it (what a hardware breakpoint compares against).
    private static ulong Linear(ulong rip, in SpecialRegisters sregs) => ModeOf(sregs) == CpuMode.Long ? rip : sregs.Cs.Base + rip;

    /// <summary>Forgets the last stop (a new image was loaded); breakpoints and watchpoints stay armed.</summary>
    internal void Reset()
    {
        _stepTrapOwedAt = null;
        _resumeOverBreakpoint = false;
        LastBreakpoint = null;
        LastWatchpoint = null;
    }

    private const uint BreakpointVector = 3;

    /// <summary>What goes into DR0-DR3: hardware execute breakpoints (when INT3 is not used), then watchpoints.</summary>
    private HardwareBreakpoint[] HardwareSlots()
    {
        var execute = UsesSoftwareBreakpoints ? [] : _breakpoints.Select(b => new HardwareBreakpoint(b));
        return [.. execute, .. _watchpoints];
    }

    private void RequireFreeDebugRegister(string holders)
    {
        var used = HardwareSlots();
        if (used.Length == DebugAddressRegisters)
            throw new InvalidOperationException(
                $"x86 has {DebugAddressRegisters} debug address registers and all hold {holders} ({string.Join(", ", used.Select(b => $"0x{b.Address:x}"))}): remove one first.");
    }

    private void ApplyGuestDebug()
    {
        if (!SupportsGuestDebug) return;
        var software = UsesSoftwareBreakpoints && _breakpoints.Count > 0;
        Vcpu.SetGuestDebug(singleStep: false, software, HardwareSlots());
        if (software) InsertSoftwareBreakpoints();
        else RemoveSoftwareBreakpoints();
    }

    // INT3 bytes live in RAM only while the vCPU runs (BeginRun inserts, EndRun removes): whoever reads guest code
    // between runs sees the guest's own bytes.
    private void InsertSoftwareBreakpoints()
    {
        if (!_running || _singleStepping || !UsesSoftwareBreakpoints) return;
        foreach (var address in _breakpoints)
        {
            if (_patchedBytes.ContainsKey(address)) continue;
            var span = Ram.GetSpan(address, 1);
            _patchedBytes[address] = span[0];
            span[0] = Int3;
        }
    }

    private void RemoveSoftwareBreakpoints()
    {
        if (_patchedBytes.Count == 0) return;
        foreach (var (address, original) in _patchedBytes)
        {
            var span = Ram.GetSpan(address, 1);
            // The guest may have rewritten the byte itself (self-modifying code): then its byte stands.
            if (span[0] == Int3) span[0] = original;
        }
        _patchedBytes.Clear();
    }

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
        if ((sregs.Cr0 & ControlRegisterBits.Cr0ProtectionEnable) == 0) return CpuMode.Real;
        var cs = sregs.Cs;
        return (sregs.Efer & ControlRegisterBits.EferLongModeActive) != 0 && cs.L != 0 ? CpuMode.Long : CpuMode.Protected;
    }
}
