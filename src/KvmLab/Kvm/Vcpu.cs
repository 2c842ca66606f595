using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// One virtual CPU: its descriptor and its kvm_run mapping. <see cref="Run"/> enters the guest until the next
/// exit and decodes it without allocating. Reads (IN, MMIO read) must be answered with <see cref="CompleteRead(ulong)"/>
/// before the next <see cref="Run"/>, which completes the guest instruction with that data.
/// All methods except <see cref="RequestStop"/> belong to the thread that runs the vCPU.
/// </summary>
public sealed unsafe partial class Vcpu : IDisposable
{
    private const int PageSize = 4096;
    private const int CoalescedRingCapacity = (PageSize - 8) / 24;

    private readonly KvmFileDescriptor _fd;
    private readonly MappedRegion _runMapping;
    private readonly kvm_run* _run;
    private readonly kvm_coalesced_mmio_ring* _coalescedRing;
    private readonly bool _syncRegs;
    private readonly Lock _stopLock = new();
    private nuint _runThread;
    private bool _syncFresh;
    private PendingRead _pending;

    // The calling thread's pthread_t, asked once per thread: a P/Invoke (with its GC transition) per KVM_RUN is a
    // measurable part of what Run adds to the bare ioctl.
    [ThreadStatic]
    private static nuint _pthreadSelf;

    internal Vcpu(Vm? vm, int id, KvmFileDescriptor fd, MappedRegion runMapping, int coalescedPageOffset, bool syncRegs)
    {
        Vm = vm;
        Id = id;
        _fd = fd;
        _runMapping = runMapping;
        _run = (kvm_run*)runMapping.Address;
        ulong ringOffset = (ulong)coalescedPageOffset * PageSize;
        _coalescedRing = coalescedPageOffset > 0 && ringOffset + PageSize <= runMapping.Length
            ? (kvm_coalesced_mmio_ring*)((byte*)_run + ringOffset)
            : null;
        _syncRegs = syncRegs;
        if (syncRegs)
            _run->kvm_valid_regs = KvmIoctls.KVM_SYNC_X86_REGS;
    }

    private enum PendingRead : byte
    {
        None,
        Io,
        Mmio,
    }

    /// <summary>The VM this vCPU belongs to (null only for a vCPU built over a raw descriptor in tests).</summary>
    public Vm? Vm { get; }

    /// <summary>The vCPU id given to KVM_CREATE_VCPU (the APIC id).</summary>
    public int Id { get; }

    /// <summary>
    /// Opens this vCPU's kernel statistics (KVM_GET_STATS_FD on the vCPU fd): every exit KVM took (<c>exits</c>), the
    /// ones for port I/O and MMIO whether handled in the kernel or not (<c>io_exits</c>, <c>mmio_exits</c>), emulated
    /// instructions, page faults, halts... (arch/x86/kvm/x86.c, kvm_vcpu_stats_desc). No root needed.
    /// </summary>
    /// <exception cref="NotSupportedException">The kernel predates binary statistics (Linux 5.14).</exception>
    public Stats.KvmStatsFile OpenStats()
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        return Stats.KvmStatsFile.Open(_fd, c => Vm?.CheckExtension(c) ?? 1, "vCPU");
    }

    /// <summary>The most recent exit <see cref="Run"/> returned.</summary>
    public VcpuExit LastExit { get; private set; }

    /// <summary>
    /// Whether KVM mirrors the registers into kvm_run on every exit (KVM_CAP_SYNC_REGS), so that <see cref="Rip"/>
    /// and <see cref="GetRegisters"/> after an exit cost no ioctl.
    /// </summary>
    public bool HasSyncRegs => _syncRegs;

    /// <summary>
    /// RIP now. Right after <see cref="Run"/> it comes from the sync-regs copy in kvm_run (no ioctl); otherwise
    /// from KVM_GET_REGS. Right after an IN or MMIO read it points at the instruction (it completes on the next Run),
    /// after an MMIO write past it; after an OUT it depends on the backend: at it on SVM/VMX, past it on kvm_pvm
    /// (<see cref="KvmBehaviour"/> measures it).
    /// </summary>
    public ulong Rip
    {
        get
        {
            ThrowIfDisposed();
            return _syncFresh ? _run->s.regs.rip : GetRegisters().Rip;
        }
    }

    /// <summary>
    /// The bytes the guest wrote in the last exit, read in place from kvm_run (no copy): for OUT/OUTS
    /// <c>Count * Size</c> bytes, for an MMIO write <c>Length</c> bytes. Empty for any other exit. Valid until the next Run.
    /// </summary>
    public ReadOnlySpan<byte> WriteData
    {
        get
        {
            ThrowIfDisposed();
            var exit = LastExit;
            if (exit.Reason == ExitReason.Io && exit.Io.Direction == IoDirection.Out)
                return IoDataSpan();
            if (exit.Reason == ExitReason.Mmio && exit.Mmio.IsWrite)
                return new ReadOnlySpan<byte>(_run->mmio.data, (int)Math.Min(_run->mmio.len, 8u));
            return default;
        }
    }

    /// <summary>Whether the last exit was a read (IN / MMIO read) still waiting for <see cref="CompleteRead(ulong)"/>.</summary>
    public bool IsReadPending => _pending != PendingRead.None;

    /// <summary>
    /// Enters the guest until the next exit (wraps KVM_RUN) and decodes kvm_run. Guest behaviour never throws:
    /// a triple fault, an entry failure or a KVM internal error come back as exits. A stop request returns an
    /// <see cref="ExitReason.Intr"/> exit.
    /// </summary>
    /// <exception cref="InvalidOperationException">The previous exit was a read that was not completed.</exception>
    /// <exception cref="KvmException">KVM_RUN itself failed (host problem).</exception>
    public VcpuExit Run()
    {
        ThrowIfDisposed();
        if (_pending != PendingRead.None)
            throw PendingReadNotCompleted();

        int result, errno;
        bool added = false, mappingAdded = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            _runMapping.DangerousAddRef(ref mappingAdded);
            lock (_stopLock)
                _runThread = _pthreadSelf != 0 ? _pthreadSelf : _pthreadSelf = Libc.pthread_self();
            result = Libc.ioctl(_fd.Number, KvmIoctls.KVM_RUN, 0);
            errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            lock (_stopLock)
            {
                _runThread = 0;
                if (result < 0 && errno == Libc.EINTR)
                    _run->immediate_exit = 0;
            }

            if (result < 0)
            {
                if (errno != Libc.EINTR && errno != Libc.EAGAIN)
                    throw KvmException.FromErrno(errno, nameof(KvmIoctls.KVM_RUN));
                _syncFresh = false;
                return LastExit = VcpuExit.ForReason(ExitReason.Intr);
            }
            _syncFresh = _syncRegs;
            return LastExit = Decode();
        }
        finally
        {
            if (mappingAdded)
                _runMapping.DangerousRelease();
            if (added)
                _fd.DangerousRelease();
        }
    }

    /// <summary>
    /// Makes the current or next <see cref="Run"/> return an <see cref="ExitReason.Intr"/> exit. Safe from any thread:
    /// sets kvm_run.immediate_exit (so a Run about to start returns at once) and sends the vCPU thread a signal with
    /// a no-op native handler (so a Run inside the guest returns EINTR).
    /// </summary>
    public void RequestStop()
    {
        int signal = StopSignal.Number;
        lock (_stopLock)
        {
            if (_runMapping.IsClosed)
                return;
            Volatile.Write(ref _run->immediate_exit, 1);
            if (_runThread != 0)
                Libc.pthread_kill(_runThread, signal);
        }
    }

    /// <summary>Calls <see cref="RequestStop"/> when <paramref name="token"/> is cancelled; dispose the result to detach.</summary>
    public CancellationTokenRegistration StopWhenCancelled(CancellationToken token) =>
        token.UnsafeRegister(static state => ((Vcpu)state!).RequestStop(), this);

    /// <summary>
    /// Answers the pending IN (single element) or MMIO read with <paramref name="value"/>, truncated to the access
    /// size, by writing it into kvm_run; the guest instruction completes on the next <see cref="Run"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No read is pending, or it is a string IN (use the span overload).</exception>
    public void CompleteRead(ulong value)
    {
        ThrowIfDisposed();
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        switch (_pending)
        {
            case PendingRead.Io when _run->io.count != 1:
                throw new InvalidOperationException(
                    $"The pending IN at port 0x{_run->io.port:X} is a string IN of {_run->io.count} elements: " +
                    $"complete it with CompleteRead(ReadOnlySpan<byte>) holding {_run->io.count * _run->io.size} bytes.");
            case PendingRead.Io:
                bytes[.._run->io.size].CopyTo(IoDataSpan());
                break;
            case PendingRead.Mmio:
                bytes[..(int)Math.Min(_run->mmio.len, 8u)].CopyTo(new Span<byte>(_run->mmio.data, 8));
                break;
            default:
                throw NoReadPending();
        }
        _pending = PendingRead.None;
    }

    /// <summary>
    /// Answers the pending read with raw bytes: for IN/INS exactly <c>Count * Size</c> bytes, for an MMIO read
    /// exactly <c>Length</c> bytes.
    /// </summary>
    /// <exception cref="InvalidOperationException">No read is pending.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has the wrong length.</exception>
    public void CompleteRead(ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        Span<byte> target = _pending switch
        {
            PendingRead.Io => IoDataSpan(),
            PendingRead.Mmio => new Span<byte>(_run->mmio.data, (int)Math.Min(_run->mmio.len, 8u)),
            _ => throw NoReadPending(),
        };
        if (data.Length != target.Length)
            throw new ArgumentException(
                $"The pending {DescribePending()} needs exactly {target.Length} bytes, got {data.Length}.", nameof(data));
        data.CopyTo(target);
        _pending = PendingRead.None;
    }

    /// <summary>
    /// Reads the general-purpose registers. Wraps KVM_GET_REGS; right after <see cref="Run"/> with sync regs the
    /// answer is the copy KVM already wrote into kvm_run, and no ioctl is made.
    /// </summary>
    public Registers GetRegisters()
    {
        ThrowIfDisposed();
        if (_syncFresh)
            return Unsafe.As<kvm_regs, Registers>(ref _run->s.regs);
        var regs = default(Registers);
        Sys.Ioctl(_fd, KvmIoctls.KVM_GET_REGS, ref regs.Raw, nameof(KvmIoctls.KVM_GET_REGS));
        return regs;
    }

    /// <summary>Writes the general-purpose registers, RIP and RFLAGS. Wraps KVM_SET_REGS.</summary>
    public void SetRegisters(in Registers registers)
    {
        ThrowIfDisposed();
        var copy = registers.Raw;
        Sys.Ioctl(_fd, KvmIoctls.KVM_SET_REGS, ref copy, nameof(KvmIoctls.KVM_SET_REGS));
        _syncFresh = false;
    }

    /// <summary>Reads segment, descriptor-table and control registers. Wraps KVM_GET_SREGS.</summary>
    public SpecialRegisters GetSpecialRegisters()
    {
        ThrowIfDisposed();
        var sregs = default(SpecialRegisters);
        Sys.Ioctl(_fd, KvmIoctls.KVM_GET_SREGS, ref sregs.Raw, nameof(KvmIoctls.KVM_GET_SREGS));
        return sregs;
    }

    /// <summary>Writes segment, descriptor-table and control registers. Wraps KVM_SET_SREGS.</summary>
    public void SetSpecialRegisters(in SpecialRegisters sregs)
    {
        ThrowIfDisposed();
        var copy = sregs.Raw;
        Sys.Ioctl(_fd, KvmIoctls.KVM_SET_SREGS, ref copy, nameof(KvmIoctls.KVM_SET_SREGS));
        _syncFresh = false;
    }

    /// <summary>Sets the CPUID leaves the guest sees. Wraps KVM_SET_CPUID2.</summary>
    internal void SetCpuid(IReadOnlyList<CpuidEntry> entries)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(entries);
        byte[] buffer = new byte[sizeof(kvm_cpuid2) + entries.Count * sizeof(kvm_cpuid_entry2)];
        fixed (byte* p = buffer)
        {
            ((kvm_cpuid2*)p)->nent = (uint)entries.Count;
            var target = (kvm_cpuid_entry2*)(p + sizeof(kvm_cpuid2));
            for (int i = 0; i < entries.Count; i++)
            {
                var e = entries[i];
                target[i] = new kvm_cpuid_entry2
                {
                    function = e.Function, index = e.Index, flags = e.Flags, eax = e.Eax, ebx = e.Ebx, ecx = e.Ecx, edx = e.Edx,
                };
            }
            Sys.Ioctl(_fd, KvmIoctls.KVM_SET_CPUID2, (nint)p, nameof(KvmIoctls.KVM_SET_CPUID2));
        }
    }

    /// <summary>
    /// Enables guest debugging: with <paramref name="singleStep"/> every instruction ends in a
    /// <see cref="ExitReason.Debug"/> exit; each address in <paramref name="executeBreakpoints"/> (at most 4) becomes
    /// a hardware execute breakpoint in DR0-DR3. No step and no breakpoints turns debugging off.
    /// Wraps KVM_SET_GUEST_DEBUG.
    /// </summary>
    public void SetGuestDebug(bool singleStep, params ReadOnlySpan<ulong> executeBreakpoints)
    {
        if (executeBreakpoints.Length > 4)
            throw new ArgumentException($"x86 has 4 debug address registers; got {executeBreakpoints.Length} breakpoints.", nameof(executeBreakpoints));
        Span<HardwareBreakpoint> hardware = stackalloc HardwareBreakpoint[executeBreakpoints.Length];
        for (int i = 0; i < hardware.Length; i++)
            hardware[i] = new HardwareBreakpoint(executeBreakpoints[i]);
        SetGuestDebug(singleStep, softwareBreakpoints: false, hardware);
    }

    /// <summary>
    /// Enables guest debugging in full: <paramref name="singleStep"/> (KVM_GUESTDBG_SINGLESTEP),
    /// <paramref name="softwareBreakpoints"/> (KVM_GUESTDBG_USE_SW_BP: a guest INT3 becomes a
    /// <see cref="ExitReason.Debug"/> exit with exception 3 and the INT3's address, instead of a guest #BP), and up to
    /// four <paramref name="hardware"/> breakpoints or data watchpoints in DR0-DR3 (KVM_GUESTDBG_USE_HW_BP).
    /// Nothing enabled turns debugging off. Wraps KVM_SET_GUEST_DEBUG.
    /// </summary>
    /// <exception cref="ArgumentException">More than four hardware entries, or one DR7 cannot express.</exception>
    public void SetGuestDebug(bool singleStep, bool softwareBreakpoints, ReadOnlySpan<HardwareBreakpoint> hardware)
    {
        ThrowIfDisposed();
        if (hardware.Length > 4)
            throw new ArgumentException($"x86 has 4 debug address registers; got {hardware.Length} hardware breakpoints.", nameof(hardware));
        var debug = default(kvm_guest_debug);
        if (singleStep || softwareBreakpoints || hardware.Length > 0)
        {
            debug.control = KvmIoctls.KVM_GUESTDBG_ENABLE;
            if (singleStep)
                debug.control |= KvmIoctls.KVM_GUESTDBG_SINGLESTEP;
            if (softwareBreakpoints)
                debug.control |= KvmIoctls.KVM_GUESTDBG_USE_SW_BP;
            if (hardware.Length > 0)
            {
                debug.control |= KvmIoctls.KVM_GUESTDBG_USE_HW_BP;
                // Bit 10 of DR7 reads as 1 on every x86; each Ln enable bit is at 2n, RWn at 16 + 4n, LENn at 18 + 4n.
                ulong dr7 = 0x400;
                for (int i = 0; i < hardware.Length; i++)
                {
                    hardware[i].Validate();
                    debug.debugreg[i] = hardware[i].Address;
                    dr7 |= 1UL << (2 * i);
                    dr7 |= (ulong)hardware[i].Kind << (16 + 4 * i);
                    dr7 |= hardware[i].LengthBits << (18 + 4 * i);
                }
                debug.debugreg[7] = dr7;
            }
        }
        Sys.Ioctl(_fd, KvmIoctls.KVM_SET_GUEST_DEBUG, ref debug, nameof(KvmIoctls.KVM_SET_GUEST_DEBUG));
    }

    /// <summary>
    /// Takes the oldest write from the VM's coalesced MMIO ring (shared page in the vCPU mapping); false when empty.
    /// The run loop drains the ring before dispatching each exit so that device state sees writes in guest order.
    /// </summary>
    internal bool TryDequeueCoalesced(out CoalescedWrite write)
    {
        ThrowIfDisposed();
        var ring = _coalescedRing;
        if (ring is null)
        {
            write = default;
            return false;
        }
        uint first = Volatile.Read(ref ring->first);
        if (first == Volatile.Read(ref ring->last) || first >= CoalescedRingCapacity)
        {
            write = default;
            return false;
        }
        var entry = (kvm_coalesced_mmio*)((byte*)ring + sizeof(kvm_coalesced_mmio_ring)) + first;
        uint length = Math.Min(entry->len, 8u);
        ulong data = 0;
        new ReadOnlySpan<byte>(entry->data, (int)length).CopyTo(new Span<byte>(&data, 8));
        write = new CoalescedWrite(entry->phys_addr, length, data, entry->pio != 0);
        Volatile.Write(ref ring->first, (first + 1) % CoalescedRingCapacity);
        return true;
    }

    /// <summary>Closes the vCPU descriptor and unmaps kvm_run.</summary>
    public void Dispose()
    {
        lock (_stopLock)
        {
            _fd.Dispose();
            _runMapping.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"vCPU {Id}";

    private Span<byte> IoDataSpan()
    {
        ulong length = (ulong)_run->io.count * _run->io.size;
        ulong offset = _run->io.data_offset;
        if (offset < (ulong)sizeof(kvm_run) || offset + length > _runMapping.Length)
            throw new InvalidOperationException(
                $"kvm_run io.data_offset 0x{offset:X} with 0x{length:X} bytes lies outside the 0x{_runMapping.Length:X}-byte vCPU mapping.");
        return new Span<byte>((byte*)_run + offset, (int)length);
    }

    private VcpuExit Decode()
    {
        var reason = (ExitReason)_run->exit_reason;
        switch (reason)
        {
            case ExitReason.Io:
            {
                ref var io = ref _run->io;
                var direction = (IoDirection)io.direction;
                ulong value = 0;
                if (direction == IoDirection.Out)
                {
                    var bytes = IoDataSpan();
                    value = LittleEndian.Read(bytes[..Math.Min(bytes.Length, (int)io.size)]);
                }
                else
                {
                    _pending = PendingRead.Io;
                }
                return VcpuExit.ForIo(direction, io.port, io.size, io.count, io.data_offset, value);
            }
            case ExitReason.Mmio:
            {
                ref var mmio = ref _run->mmio;
                uint length = mmio.len;
                ulong data = 0;
                if (mmio.is_write != 0)
                {
                    // mmio.data is always 8 bytes in kvm_run, so one load plus a mask replaces a byte copy.
                    ulong raw = Unsafe.ReadUnaligned<ulong>(Unsafe.AsPointer(ref mmio.data[0]));
                    data = length >= 8 ? raw : raw & ((1UL << (int)(8 * length)) - 1);
                }
                else
                {
                    _pending = PendingRead.Mmio;
                }
                return VcpuExit.ForMmio(mmio.is_write != 0, mmio.phys_addr, length, data);
            }
            case ExitReason.Debug:
                return VcpuExit.ForDebug(_run->debug.exception, _run->debug.pc, _run->debug.dr6, _run->debug.dr7);
            case ExitReason.FailEntry:
                return VcpuExit.ForFailEntry(_run->fail_entry.hardware_entry_failure_reason, _run->fail_entry.cpu);
            case ExitReason.InternalError:
            {
                ref var e = ref _run->@internal;
                return VcpuExit.ForInternalError(e.suberror, new ExitDataWords(e.ndata, e.data[0], e.data[1], e.data[2], e.data[3]));
            }
            case ExitReason.SystemEvent:
            {
                ref var e = ref _run->system_event;
                // Kernels before ndata existed report only "flags" (word 0); treat that as one word.
                uint count = Math.Max(e.ndata, 1u);
                return VcpuExit.ForSystemEvent(e.type, new ExitDataWords(count, e.data[0], e.data[1], e.data[2], e.data[3]));
            }
            case ExitReason.Unknown:
                return VcpuExit.ForUnknown(_run->hw.hardware_exit_reason);
            case ExitReason.Hlt or ExitReason.Shutdown or ExitReason.Intr or ExitReason.IrqWindowOpen or ExitReason.SetTpr:
                return VcpuExit.ForReason(reason);
            default:
            {
                var words = (ulong*)&_run->hw;
                return VcpuExit.ForUnsupported(_run->exit_reason, new ExitDataWords(ExitDataWords.Capacity, words[0], words[1], words[2], words[3]));
            }
        }
    }

    private string DescribePending() => _pending switch
    {
        PendingRead.Io => $"IN from port 0x{_run->io.port:X} (size {_run->io.size}, count {_run->io.count})",
        PendingRead.Mmio => $"MMIO read of 0x{_run->mmio.phys_addr:X} (size {_run->mmio.len})",
        _ => "nothing",
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private InvalidOperationException PendingReadNotCompleted() => new(
        $"The guest's {DescribePending()} at RIP 0x{Rip:X} was not completed: call " +
        "CompleteRead with the value the device returns before the next Run (KVM finishes the instruction with it).");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException NoReadPending() =>
        new("No read is pending: CompleteRead answers the IN or MMIO-read exit that Run just returned.");

    /// <summary>
    /// Whether the vCPU is runnable or halted waiting for an interrupt. Wraps KVM_GET_MP_STATE. With an in-kernel
    /// irqchip HLT does not exit to user space; this is how a run loop sees that the guest halted.
    /// </summary>
    internal MpState GetMpState()
    {
        ThrowIfDisposed();
        uint state = 0;
        Sys.Ioctl(_fd, KvmIoctls.KVM_GET_MP_STATE, ref state, nameof(KvmIoctls.KVM_GET_MP_STATE));
        return (MpState)state;
    }

    /// <summary>
    /// Makes the vCPU runnable or halted. Wraps KVM_SET_MP_STATE. A vCPU that halted with interrupts off stays halted
    /// (with an in-kernel irqchip, KVM_RUN just waits) until this makes it runnable again, as a reset does.
    /// </summary>
    internal void SetMpState(MpState state)
    {
        ThrowIfDisposed();
        uint value = (uint)state;
        Sys.Ioctl(_fd, KvmIoctls.KVM_SET_MP_STATE, ref value, nameof(KvmIoctls.KVM_SET_MP_STATE));
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
}
