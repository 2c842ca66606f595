using System.Diagnostics;
using System.Runtime.CompilerServices;
using KvmLab.Kvm;
using KvmLab.Memory;
using KvmLab.Tracing;

namespace KvmLab;

// The run loop: the analogue of QEMU's kvm_cpu_exec (accel/kvm/kvm-all.c). One KVM_RUN, then one switch over
// kvm_run.exit_reason that hands port I/O to the "io" address space (QEMU: address_space_rw on address_space_io) and
// MMIO to the "memory" address space (QEMU: address_space_rw on address_space_memory), completes reads back into
// kvm_run, and appends the trace record. Nothing on this path allocates.
public sealed partial class Machine
{
    private static readonly double NanosPerTick = 1e9 / Stopwatch.Frequency;

    // Started by the first run that needs a deadline: a machine built and disposed without running starts no thread.
    private VcpuKicker? _kicker;
    private readonly long _epoch;
    private bool _coalesced;
    private long _nextClockDue = long.MaxValue;
    private long _armedAt = long.MaxValue;
    private long _exitsAtHaltCheck = -1;
    private long _exits;
    // When the last record's handling ended (BeginRun: when the run started): the next KVM_RUN's entry time too, so
    // that the loop reads the clock twice per exit (KVM_RUN returned, handling done) rather than three times. A
    // record's RunNanos thereby also holds the few checks between handling and KVM_RUN (tens of ns).
    private long _handledAt;
    private StopDetail _stopDetail = "";

    /// <summary>KVM exits taken since the machine was built.</summary>
    public long ExitCount => _exits;

    /// <summary>The last exit KVM_RUN returned (typed view of kvm_run).</summary>
    public VcpuExit LastExit => Vcpu.LastExit;

    /// <summary>The last record the run loop produced (also kept when tracing is off).</summary>
    public ResolvedExit LastRecord => ResolveLast();

    /// <summary>
    /// Exactly one KVM_RUN, its dispatch to the device, and its trace record. Returns that record (for string I/O, the
    /// last element). <paramref name="timeout"/> (default 1 s) bounds a guest that never exits: the step then returns
    /// the INTR exit of the stop request, or, when the vCPU sits in HLT with interrupts off (the in-kernel irqchip keeps
    /// HLT from exiting), the HLT it observed. A device timer coming due also ends the KVM_RUN (an INTR exit). After a
    /// stop at a breakpoint, the instruction there is first single-stepped with breakpoints disarmed (see
    /// <see cref="MachineDebugger.AddBreakpoint"/>), which takes a KVM_RUN of its own.
    /// </summary>
    public ResolvedExit Step(TimeSpan? timeout = null)
    {
        ThrowIfDisposed();
        // One clock read serves the deadline, the kicker and the KVM_RUN's entry time: an explicit step pays for no
        // more than Run pays per exit plus arming (and disarming) the deadline.
        var now = Stopwatch.GetTimestamp();
        var ctx = new RunContext(Deadline(timeout ?? TimeSpan.FromSeconds(1), now), default, null, HaltChecks: false);
        BeginRun(ref ctx, now);
        try
        {
            LastStop = Debugger.ResumeFromBreakpoint(ref ctx) ?? RunOnce(ref ctx) ?? StopReason.Stepped;
        }
        finally
        {
            EndRun();
        }
        return ResolveLast();
    }

    /// <summary>How the last <see cref="Step"/> or <see cref="Run(RunOptions?)"/> ended.</summary>
    public StopReason? LastStop { get; private set; }

    /// <summary>
    /// Runs until the guest halts, writes isa-debug-exit, faults, or a limit in <paramref name="options"/> is reached
    /// (default: 10 s). Guest behaviour never throws: it is the <see cref="RunResult"/>.
    /// </summary>
    public RunResult Run(RunOptions? options = null)
    {
        ThrowIfDisposed();
        options ??= new RunOptions();
        var started = Stopwatch.GetTimestamp();
        var ctx = new RunContext(Deadline(options.Timeout, started), options.Cancellation, options.Until, HaltChecks: true);
        var exitsBefore = _exits;
        StopReason? stop = null;
        BeginRun(ref ctx, started);
        using (Vcpu.StopWhenCancelled(options.Cancellation))
        {
            try
            {
                stop = Debugger.ResumeFromBreakpoint(ref ctx);
                while (stop is null)
                {
                    stop = RunOnce(ref ctx);
                    if (stop is null && options.MaxExits > 0 && _exits - exitsBefore >= options.MaxExits) stop = StopReason.ExitLimit;
                }
            }
            finally
            {
                EndRun();
            }
        }
        LastStop = stop;
        // A finished run's trace costs 48 bytes per record, not a partly filled chunk, unless the caller reserved
        // capacity so that runs allocate nothing (MachineOptions.TraceCapacity): then the reservation stays.
        if (Options.TraceCapacity == 0) Trace.TrimExcess();
        var status = stop == StopReason.IsaDebugExit ? IsaDebugExit.ExitStatus : (ulong?)null;
        return new RunResult(stop.Value, _exits - exitsBefore, Stopwatch.GetElapsedTime(started), status, _recorder.Last.Rip, _stopDetail.ToString());
    }

    /// <summary>Runs with a timeout only.</summary>
    public RunResult Run(TimeSpan timeout) => Run(new RunOptions { Timeout = timeout });

    // HaltChecks: kick the vCPU every HaltCheckInterval to see whether it halted (runs); a step makes exactly one
    // KVM_RUN and looks only when its deadline passes.
    internal readonly record struct RunContext(long DeadlineTicks, CancellationToken Cancellation, ExitCondition? Until, bool HaltChecks);

    private static long Deadline(TimeSpan timeout, long now) => timeout == System.Threading.Timeout.InfiniteTimeSpan
        ? long.MaxValue
        : now + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    private void BeginRun(ref RunContext ctx, long now)
    {
        _handledAt = now;
        Debugger.BeginRun();
        IsaDebugExit.Reset();
        _stopDetail = "";
        _exitsAtHaltCheck = -1;
        _nextClockDue = Clock.NextDueTicks ?? long.MaxValue;
        ArmKicker(in ctx, now);
    }

    private void EndRun()
    {
        _kicker?.Disarm();
        _armedAt = long.MaxValue;
        Debugger.EndRun();
    }

    /// <summary>
    /// The run of <see cref="MachineDebugger.StepInstruction"/>: one instruction single-stepped with breakpoints
    /// disarmed, bounded by <paramref name="timeout"/>. Returns how it ended (also <see cref="LastStop"/>).
    /// </summary>
    internal StopReason RunOneStep(TimeSpan timeout)
    {
        var now = Stopwatch.GetTimestamp();
        var ctx = new RunContext(Deadline(timeout, now), default, null, HaltChecks: false);
        BeginRun(ref ctx, now);
        StopReason stop;
        try
        {
            stop = Debugger.StepWithBreakpointsDisarmed(ref ctx);
        }
        finally
        {
            EndRun();
        }
        LastStop = stop;
        return stop;
    }

    /// <summary>One KVM_RUN for the debugger, entered now: what it did since the last record (a KVM_SET_GUEST_DEBUG)
    /// is not guest time.</summary>
    internal StopReason? RunOnceEnteringNow(ref RunContext ctx)
    {
        _handledAt = Stopwatch.GetTimestamp();
        return RunOnce(ref ctx);
    }

    /// <summary>Why the run stops, for the debugger to name a stop the run loop cannot see (a step that its own
    /// access exit completed).</summary>
    internal void SetStopDetail(StopDetail detail) => _stopDetail = detail;

    /// <summary>One KVM_RUN and its dispatch; returns why the run must stop, or null to go on.</summary>
    private StopReason? RunOnce(ref RunContext ctx)
    {
        // Doorbells KVM completed through an ioeventfd since the last exit: the devices serve them now.
        var entered = _handledAt;
        if (_watcher is { Pending: true })
        {
            _watcher.Deliver();
            entered = Stopwatch.GetTimestamp();
        }
        else if (ctx.Until is not null)
        {
            // The caller's condition ran since the last record: its time is not the guest's.
            entered = Stopwatch.GetTimestamp();
        }
        // Like QEMU's main loop running expired timers between exits: edu's factorial and DMA complete here.
        if (entered >= _nextClockDue)
        {
            RunClock();
            entered = Stopwatch.GetTimestamp();
        }

        var exit = Vcpu.Run();
        return Dispatch(in exit, ref ctx, entered, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// The post-KVM_RUN half of <see cref="RunOnce"/>: replays coalesced writes, hands the exit to its address space
    /// and device, completes a read, records the exit. Returns why the run must stop, or null to go on.
    /// </summary>
    private StopReason? Dispatch(in VcpuExit exit, ref RunContext ctx, long entered, long exited)
    {
        _exits++;
        if (_coalesced) ReplayCoalesced(exited);

        // An interrupted KVM_RUN leaves no sync-regs copy: keep the previous RIP rather than pay a KVM_GET_REGS.
        var rip = exit.Reason switch
        {
            ExitReason.Intr => _recorder.Last.Rip,
            ExitReason.Debug => exit.Debug.Pc,
            _ => Vcpu.Rip,
        };
        StopReason? stop = null;
        switch (exit.Reason)
        {
            case ExitReason.Io:
                _recorder.BeginDispatch();
                DispatchIo(exit.Io, rip, entered, exited);
                _recorder.EndDispatch();
                break;
            case ExitReason.Mmio:
                _recorder.BeginDispatch();
                DispatchMmio(exit.Mmio, rip, entered, exited);
                _recorder.EndDispatch();
                break;
            default:
                Record(exit.Reason, rip, entered, exited);
                stop = StopFor(in exit, ref ctx, entered);
                break;
        }

        if (IsaDebugExit.ExitRequested) return StopReason.IsaDebugExit;
        if (stop is null && ctx.Until is { } until && until(in _recorder.Last)) return StopReason.Condition;
        return stop;
    }

    /// <summary>What an exit other than I/O or MMIO means for the run (its record is already appended); null to go on.</summary>
    private StopReason? StopFor(in VcpuExit exit, ref RunContext ctx, long entered)
    {
        switch (exit.Reason)
        {
            case ExitReason.Hlt:
                return StopReason.Halted;
            case ExitReason.Shutdown:
                _stopDetail = "triple fault: an exception occurred while delivering a double fault (check the IDT, GDT and stack)";
                return StopReason.Shutdown;
            case ExitReason.FailEntry:
                _stopDetail = exit.FailEntry.ToString();
                return StopReason.FailEntry;
            case ExitReason.InternalError:
                _stopDetail = exit.InternalError.ToString();
                return StopReason.InternalError;
            case ExitReason.Debug:
                _stopDetail = Debugger.OnDebugExit(exit.Debug);
                return StopReason.Debug;
            case ExitReason.SystemEvent:
                _stopDetail = exit.SystemEvent.ToString();
                return StopReason.SystemEvent;
            case ExitReason.Intr:
                return OnInterrupted(ref ctx, entered);
            case ExitReason.IrqWindowOpen:
            case ExitReason.SetTpr:
                return null;
            default:
                _stopDetail = exit.IsDecoded ? $"KvmLab does not handle {exit}" : exit.Unsupported.ToString();
                return StopReason.Unsupported;
        }
    }

    [SkipLocalsInit]
    private void DispatchIo(IoExit io, ulong rip, long entered, long exited)
    {
        int size = io.Size;
        if (io.Direction == IoDirection.Out)
        {
            if (io.Count == 1)
            {
                // The decoded exit already holds the one element: no second trip through kvm_run's data page.
                var written = Io.Write(io.Port, size, io.Value);
                RecordAccess(TraceAccess.PioWrite, io.Port, size, io.Value, rip, written, false, entered, exited);
                return;
            }
            var data = Vcpu.WriteData;
            for (var i = 0; i < io.Count; i++)
            {
                var value = LittleEndian.Read(data.Slice(i * size, size));
                var result = Io.Write(io.Port, size, value);
                RecordAccess(TraceAccess.PioWrite, io.Port, size, value, rip, result, i > 0, entered, exited);
            }
            return;
        }
        if (io.Count == 1)
        {
            var result = Io.Read(io.Port, size, out var value);
            Vcpu.CompleteRead(value);
            RecordAccess(TraceAccess.PioRead, io.Port, size, value, rip, result, false, entered, exited);
            return;
        }
        var total = (int)io.Count * size;
        Span<byte> buffer = total <= 4096 ? stackalloc byte[4096] : new byte[total];
        for (var i = 0; i < io.Count; i++)
        {
            var result = Io.Read(io.Port, size, out var value);
            LittleEndian.Write(buffer.Slice(i * size, size), value);
            RecordAccess(TraceAccess.PioRead, io.Port, size, value, rip, result, i > 0, entered, exited);
        }
        Vcpu.CompleteRead(buffer[..total]);
    }

    private void DispatchMmio(MmioExit mmio, ulong rip, long entered, long exited)
    {
        var size = (int)mmio.Length;
        if (mmio.IsWrite)
        {
            var result = Memory.Write(mmio.Address, size, mmio.Data);
            RecordAccess(TraceAccess.MmioWrite, mmio.Address, size, mmio.Data, rip, result, false, entered, exited);
        }
        else
        {
            var result = Memory.Read(mmio.Address, size, out var value);
            Vcpu.CompleteRead(value);
            RecordAccess(TraceAccess.MmioRead, mmio.Address, size, value, rip, result, false, entered, exited);
        }
    }

    private void ReplayCoalesced(long exited)
    {
        while (Vcpu.TryDequeueCoalesced(out var write))
        {
            var space = write.IsPio ? Io : Memory;
            var result = space.Write(write.Address, (int)write.Length, write.Data);
            var flags = FlagsOf(result) | ExitFlags.Coalesced;
            var access = write.IsPio ? TraceAccess.PioWrite : TraceAccess.MmioWrite;
            _recorder.Append(new ExitRecord(ToNanos(exited - _epoch), ReasonOf(access), access, write.Address, (byte)write.Length, write.Data, 0, flags,
                _recorder.SourceOf(result.Region), RegisterOf(result), 0, 0));
        }
    }

    /// <summary>
    /// A stop request ended KVM_RUN: the caller's deadline or cancellation, a device timer coming due, or the periodic
    /// look at a vCPU that produced no exit (with an in-kernel irqchip a HLT never exits; KVM_GET_MP_STATE tells).
    /// </summary>
    private StopReason? OnInterrupted(ref RunContext ctx, long entered)
    {
        _armedAt = long.MaxValue;
        if (ctx.Cancellation.IsCancellationRequested) return StopReason.Cancelled;
        var now = Stopwatch.GetTimestamp();
        var pastDeadline = now >= ctx.DeadlineTicks;
        var quiet = _exitsAtHaltCheck == _exits - 1 || !ctx.HaltChecks;
        if (Options.InKernelIrqchip && (quiet || pastDeadline) && ObservedHalt(now, entered)) return StopReason.Halted;
        if (pastDeadline)
        {
            _stopDetail = "the guest was still running at the deadline";
            return StopReason.Timeout;
        }
        _exitsAtHaltCheck = _exits;
        ArmKicker(in ctx, now);
        return null;
    }

    /// <summary>True (and an HLT record flagged Observed appended) when the vCPU waits in HLT with nothing to wake it.</summary>
    private bool ObservedHalt(long now, long entered)
    {
        if (Vcpu.GetMpState() != MpState.Halted) return false;
        var regs = Vcpu.GetRegisters();
        const ulong interruptFlag = 1UL << 9;
        if ((regs.Rflags & interruptFlag) != 0 || Clock.Pending != 0) return false;
        _recorder.Append(new ExitRecord(ToNanos(now - _epoch), ExitReason.Hlt, TraceAccess.None, 0, 0, 0, regs.Rip, ExitFlags.Observed,
            ExitRecord.None, ExitRecord.None, ToNanos(now - entered), 0));
        _stopDetail = "HLT with interrupts disabled (seen through KVM_GET_MP_STATE)";
        return true;
    }

    private void RunClock()
    {
        Clock.RunDue();
        _nextClockDue = Clock.NextDueTicks ?? long.MaxValue;
    }

    private void OnClockDeadlineChanged(long due)
    {
        _nextClockDue = Math.Min(_nextClockDue, due);
        if (due < _armedAt) ArmAt(due);
    }

    private void ArmKicker(in RunContext ctx, long now)
    {
        var at = Math.Min(ctx.DeadlineTicks, _nextClockDue);
        if (Options.InKernelIrqchip && ctx.HaltChecks)
            at = Math.Min(at, now + (long)(Options.HaltCheckInterval.TotalSeconds * Stopwatch.Frequency));
        ArmAt(at);
    }

    private void ArmAt(long at)
    {
        if (at == long.MaxValue) return;
        _armedAt = at;
        (_kicker ??= new VcpuKicker()).ArmUntil(Vcpu, at);
    }

    private void Record(ExitReason reason, ulong rip, long entered, long exited)
    {
        var done = _handledAt = Stopwatch.GetTimestamp();
        _recorder.Append(new ExitRecord(ToNanos(exited - _epoch), reason, TraceAccess.None, 0, 0, 0, rip, ExitFlags.None,
            ExitRecord.None, ExitRecord.None, ToNanos(exited - entered), ToNanos(done - exited)));
    }

    private void RecordAccess(TraceAccess access, ulong address, int size, ulong value, ulong rip, in AccessResult result,
        bool continuation, long entered, long exited)
    {
        var done = _handledAt = Stopwatch.GetTimestamp();
        var flags = FlagsOf(result);
        if (continuation) flags |= ExitFlags.Continuation;
        if (IsaDebugExit.ExitRequested) flags |= ExitFlags.EndsRun;
        var record = new ExitRecord(ToNanos(exited - _epoch), ReasonOf(access), access, address, (byte)size, value, rip, flags,
            _recorder.SourceOf(result.Region), RegisterOf(result), continuation ? 0 : ToNanos(exited - entered), ToNanos(done - exited));
        // The host decoded the function and register while it dispatched the access: keep them with the record.
        if (result is { IsOk: true, Region: { } region } && (ReferenceEquals(region, Pci.ConfigDataRegion) || ReferenceEquals(region, Pci.EcamRegion))
            && Pci.TakeCycle(out var function, out var register))
            record = record.WithConfigTarget(function, register);
        _recorder.AppendDispatched(record);
    }

    /// <summary>
    /// A device sent an MSI (KVM_SIGNAL_MSI): a record of its own (see <see cref="TraceRecorder.RecordMsi"/>). One the
    /// device sends while an access is dispatched follows that access's record, as in QEMU's trace, which shows the
    /// access before the device model runs.
    /// </summary>
    private void RecordMsi(ulong address, uint data, string device, int vector) =>
        _recorder.RecordMsi(ToNanos(Stopwatch.GetTimestamp() - _epoch), address, data, device, vector);

    // The exit a guest access of this kind takes when it is not coalesced.
    private static ExitReason ReasonOf(TraceAccess access) => access.IsPio() ? ExitReason.Io : ExitReason.Mmio;

    private static ExitFlags FlagsOf(in AccessResult result) => result.Status switch
    {
        AccessStatus.Unassigned => ExitFlags.Unassigned,
        AccessStatus.InvalidAccess => ExitFlags.Rejected,
        _ => ExitFlags.None,
    };

    private static ushort RegisterOf(in AccessResult result) => result.RegisterIndex is >= 0 and < ExitRecord.None ? (ushort)result.RegisterIndex : ExitRecord.None;

    private ResolvedExit ResolveLast() => _recorder.ResolveLast();

    private static long ToNanos(long ticks) => (long)(ticks * NanosPerTick);

    /// <summary>The moment trace timestamps count from, in nanoseconds of the monotonic clock
    /// (<see cref="Stopwatch.GetTimestamp"/>, CLOCK_MONOTONIC on Linux): add it to an <see cref="ExitRecord.TimestampNanos"/> to
    /// place the record on the kernel's <c>trace_clock</c> mono timeline.</summary>
    public long TraceEpochNanos => ToNanos(_epoch);
}
