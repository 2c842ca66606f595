namespace KvmLab.Kvm;

/// <summary>Where RIP points when KVM_RUN returns an exit for an instruction that touched a device.</summary>
public enum ExitRip
{
    /// <summary>At the instruction: KVM completes it (and moves RIP past it) on the next KVM_RUN.</summary>
    AtInstruction,

    /// <summary>Past the instruction: KVM completed it before returning to user space.</summary>
    PastInstruction,
}

/// <summary>What a single-step trap owed by an instruction that exited to user space does on the next KVM_RUN.</summary>
public enum StepTrap
{
    /// <summary>The next KVM_RUN completes the instruction and exits with the step's DEBUG exit, running nothing else.</summary>
    Delivered,

    /// <summary>The trap is lost: the next KVM_RUN runs one more instruction before a DEBUG exit comes.</summary>
    Lost,

    /// <summary>Neither: the probe saw another exit (its detail says which).</summary>
    Other,
}

/// <summary>
/// The facts about this host's KVM that differ between backends, measured by running a small real-mode probe guest
/// (<see cref="Probe"/>), never assumed from the backend's name. On SVM and VMX, KVM's x86 code defines them:
/// a port-I/O exit leaves RIP at the IN/OUT, and the next KVM_RUN skips it (arch/x86/kvm/x86.c: kvm_fast_pio,
/// complete_fast_pio_out, complete_fast_pio_in); an MMIO write is completed by the instruction emulator before the exit
/// (x86_emulate_instruction writes RIP back), an MMIO read waits at the instruction for its data
/// (complete_emulated_mmio); a single-step trap owed by an emulated MMIO write is dropped ("FIXME: return into emulator
/// if single-stepping" in x86_emulate_instruction and complete_emulated_mmio), while the one owed by an OUT is raised by
/// kvm_skip_emulated_instruction when the next KVM_RUN completes it. Software backends may differ, and do (kvm_pvm).
/// </summary>
/// <param name="Backend">The backend the probe ran on.</param>
/// <param name="OutRip">RIP at a KVM_EXIT_IO for OUT.</param>
/// <param name="InRip">RIP at a KVM_EXIT_IO for IN.</param>
/// <param name="MmioWriteRip">RIP at a KVM_EXIT_MMIO for a write.</param>
/// <param name="MmioReadRip">RIP at a KVM_EXIT_MMIO for a read.</param>
/// <param name="StepOverOut">Under single-step, what the trap owed by an OUT that exited does.</param>
/// <param name="StepOverMmioWrite">Under single-step, what the trap owed by an MMIO write that exited does.</param>
/// <param name="HardwareBreakpoints">Whether a DR0 execute breakpoint (KVM_GUESTDBG_USE_HW_BP) gives a DEBUG exit before the instruction.</param>
/// <param name="SoftwareBreakpoints">Whether an INT3 under KVM_GUESTDBG_USE_SW_BP gives a DEBUG exit (exception 3) at its address.</param>
/// <param name="DataWatchpoints">Whether a DR0 write watchpoint (KVM_GUESTDBG_USE_HW_BP) gives a DEBUG exit after the write.</param>
/// <param name="Notes">What each probe saw where it did not match the expected shapes (empty when all did).</param>
public sealed record KvmBehaviour(
    KvmBackend Backend,
    ExitRip OutRip,
    ExitRip InRip,
    ExitRip MmioWriteRip,
    ExitRip MmioReadRip,
    StepTrap StepOverOut,
    StepTrap StepOverMmioWrite,
    bool HardwareBreakpoints,
    bool SoftwareBreakpoints,
    bool DataWatchpoints,
    IReadOnlyList<string> Notes)
{
    private const ulong CodeAddress = 0x1000;
    private const ulong RamSize = 0x10000;
    private const ulong UnbackedSegment = 0x2000; // DS base 0x20000: past the probe's 64 KiB of RAM, so MMIO
    private const ulong WatchedAddress = 0x3000;

    private static readonly Lock Gate = new();
    private static KvmBehaviour? _current;

    /// <summary>This host's behaviour, probed once per process (a few VMs and a dozen exits; milliseconds).</summary>
    /// <exception cref="KvmException">/dev/kvm cannot be used.</exception>
    public static KvmBehaviour Current
    {
        get
        {
            lock (Gate)
                return _current ??= Probe();
        }
    }

    /// <summary>True when RIP at an exit of this kind points past the instruction (KVM already completed it).</summary>
    public bool IsRipPast(bool isPio, bool isWrite) => (isPio, isWrite) switch
    {
        (true, true) => OutRip == ExitRip.PastInstruction,
        (true, false) => InRip == ExitRip.PastInstruction,
        (false, true) => MmioWriteRip == ExitRip.PastInstruction,
        _ => MmioReadRip == ExitRip.PastInstruction,
    };

    /// <summary>Runs the probe guests now (see the type's remarks) on /dev/kvm.</summary>
    public static KvmBehaviour Probe()
    {
        var notes = new List<string>();
        using var kvm = new KvmSystem();
        var (outRip, inRip, mmioWriteRip, mmioReadRip) = ProbeRips(kvm, notes);
        var debug = kvm.CheckExtension(KvmCapability.SetGuestDebug) > 0;
        if (!debug) notes.Add("KVM_CAP_SET_GUEST_DEBUG is absent: no stepping, breakpoints or watchpoints");
        var stepOut = debug ? ProbeStepTrap(kvm, [0xE6, 0x80], notes, "OUT") : StepTrap.Other;
        var stepMmio = debug ? ProbeStepTrap(kvm, [0xA2, 0x00, 0x00], notes, "MMIO write") : StepTrap.Other;
        var hardware = debug && ProbeHardwareBreakpoint(kvm, notes);
        var int3 = debug && ProbeSoftwareBreakpoint(kvm, notes);
        var watch = debug && ProbeWatchpoint(kvm, notes);
        return new KvmBehaviour(KvmBackends.Current, outRip, inRip, mmioWriteRip, mmioReadRip, stepOut, stepMmio, hardware, int3, watch, notes);
    }

    /// <summary>One line per fact, for <c>kvmlab doctor</c> and notebooks.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"RIP at an OUT exit: {Text(OutRip)}; at an IN exit: {Text(InRip)}";
        yield return $"RIP at an MMIO write exit: {Text(MmioWriteRip)}; at an MMIO read exit: {Text(MmioReadRip)}";
        yield return $"single-step over an OUT that exits: trap {Text(StepOverOut)}; over an MMIO write: trap {Text(StepOverMmioWrite)}";
        yield return $"hardware execute breakpoints (DR0-DR3): {(HardwareBreakpoints ? "fire" : "never fire")}";
        yield return $"int3 software breakpoints (KVM_GUESTDBG_USE_SW_BP): {(SoftwareBreakpoints ? "work" : "do not work")}";
        yield return $"hardware data watchpoints: {(DataWatchpoints ? "fire" : "never fire")}";
        foreach (var note in Notes) yield return "probe note: " + note;
    }

    private static string Text(ExitRip rip) => rip == ExitRip.AtInstruction ? "at the instruction" : "past the instruction";

    private static string Text(StepTrap trap) => trap switch
    {
        StepTrap.Delivered => "delivered on the next KVM_RUN",
        StepTrap.Lost => "lost (one more instruction runs)",
        _ => "neither delivered nor lost (see the probe notes)",
    };

    // out 0x80,al ; in al,0x80 ; mov [ds:0],al ; mov al,[ds:0] ; hlt  -- DS points at unbacked memory.
    private static (ExitRip Out, ExitRip In, ExitRip MmioWrite, ExitRip MmioRead) ProbeRips(KvmSystem kvm, List<string> notes)
    {
        using var g = new ProbeGuest(kvm, [0xE6, 0x80, 0xE4, 0x80, 0xA2, 0x00, 0x00, 0xA0, 0x00, 0x00, 0xF4], UnbackedSegment);
        var rOut = g.Expect(ExitReason.Io, CodeAddress, 2, notes, "OUT");
        var rIn = g.Expect(ExitReason.Io, CodeAddress + 2, 2, notes, "IN");
        g.Vcpu.CompleteRead(0);
        var rWrite = g.Expect(ExitReason.Mmio, CodeAddress + 4, 3, notes, "MMIO write");
        var rRead = g.Expect(ExitReason.Mmio, CodeAddress + 7, 3, notes, "MMIO read");
        g.Vcpu.CompleteRead(0);
        return (rOut, rIn, rWrite, rRead);
    }

    // <access> ; nop ; nop ; hlt under single-step: after the access's exit, where does the next DEBUG exit stop?
    private static StepTrap ProbeStepTrap(KvmSystem kvm, byte[] access, List<string> notes, string what)
    {
        using var g = new ProbeGuest(kvm, [.. access, 0x90, 0x90, 0xF4], UnbackedSegment);
        g.Vcpu.SetGuestDebug(singleStep: true);
        var first = g.Vcpu.Run();
        if (first.Reason is not (ExitReason.Io or ExitReason.Mmio))
        {
            notes.Add($"single-step over {what}: first exit {first}, not the access");
            return StepTrap.Other;
        }
        // As a stepping VMM must (QEMU's gdbstub too): KVM sets the trap flag only while RIP is where
        // KVM_SET_GUEST_DEBUG found it (x86.c __kvm_set_rflags), so an instruction KVM emulated clears it.
        g.Vcpu.SetGuestDebug(singleStep: true);
        var next = g.Vcpu.Run();
        var after = CodeAddress + (ulong)access.Length;
        if (next.Reason == ExitReason.Debug && next.Debug.Pc == after) return StepTrap.Delivered;
        if (next.Reason == ExitReason.Debug && next.Debug.Pc == after + 1) return StepTrap.Lost;
        notes.Add($"single-step over {what}: the exit after the access was {next}");
        return StepTrap.Other;
    }

    // nop ; nop ; hlt with DR0 on the second nop.
    private static bool ProbeHardwareBreakpoint(KvmSystem kvm, List<string> notes)
    {
        using var g = new ProbeGuest(kvm, [0x90, 0x90, 0xF4], 0);
        g.Vcpu.SetGuestDebug(singleStep: false, CodeAddress + 1);
        var exit = g.Vcpu.Run();
        if (exit.Reason == ExitReason.Debug && exit.Debug.Pc == CodeAddress + 1) return true;
        notes.Add($"a DR0 execute breakpoint gave {exit}");
        return false;
    }

    // int3 ; hlt with KVM_GUESTDBG_USE_SW_BP.
    private static bool ProbeSoftwareBreakpoint(KvmSystem kvm, List<string> notes)
    {
        using var g = new ProbeGuest(kvm, [0xCC, 0xF4], 0);
        g.Vcpu.SetGuestDebug(singleStep: false, softwareBreakpoints: true, []);
        var exit = g.Vcpu.Run();
        if (exit.Reason == ExitReason.Debug && exit.Debug.Exception == 3 && exit.Debug.Pc == CodeAddress) return true;
        notes.Add($"int3 under KVM_GUESTDBG_USE_SW_BP gave {exit}");
        return false;
    }

    // mov [0x3000],al ; nop ; hlt with DR0 watching writes to 0x3000 (RAM).
    private static bool ProbeWatchpoint(KvmSystem kvm, List<string> notes)
    {
        using var g = new ProbeGuest(kvm, [0xA2, 0x00, 0x30, 0x90, 0xF4], 0);
        g.Vcpu.SetGuestDebug(false, false, [new HardwareBreakpoint(WatchedAddress, BreakpointKind.Write)]);
        var exit = g.Vcpu.Run();
        if (exit.Reason == ExitReason.Debug && (exit.Debug.Dr6 & 1) != 0) return true;
        notes.Add($"a DR0 write watchpoint gave {exit}");
        return false;
    }

    /// <summary>A VM with 64 KiB of RAM at 0 and one real-mode vCPU at 0000:1000, no in-kernel irqchip (HLT exits).</summary>
    private sealed class ProbeGuest : IDisposable
    {
        private readonly Vm _vm;

        public ProbeGuest(KvmSystem kvm, byte[] code, ulong dataSegment)
        {
            _vm = kvm.CreateVm();
            try
            {
                _vm.SetIdentityMapAddress();
                _vm.SetTssAddress();
                var ram = _vm.AllocateGuestMemory(0, RamSize);
                code.CopyTo(ram.GetSpan(CodeAddress, code.Length));
                Vcpu = _vm.CreateVcpu(0);
                var sregs = Vcpu.GetSpecialRegisters();
                sregs.Cs.Base = 0;
                sregs.Cs.Selector = 0;
                sregs.Ds.Base = dataSegment << 4;
                sregs.Ds.Selector = (ushort)dataSegment;
                Vcpu.SetSpecialRegisters(sregs);
                var regs = new Registers { Rip = CodeAddress, Rflags = 2 };
                Vcpu.SetRegisters(regs);
            }
            catch
            {
                _vm.Dispose();
                throw;
            }
        }

        public Vcpu Vcpu { get; } = null!;

        /// <summary>Runs to the next exit, which must be <paramref name="reason"/>; says where RIP is relative to the instruction.</summary>
        public ExitRip Expect(ExitReason reason, ulong at, int length, List<string> notes, string what)
        {
            var exit = Vcpu.Run();
            var rip = Vcpu.GetRegisters().Rip;
            if (exit.Reason != reason)
                throw new InvalidOperationException($"KVM behaviour probe: expected a {reason} exit for {what} at 0x{at:x}, got {exit} (RIP 0x{rip:x}).");
            if (rip == at) return ExitRip.AtInstruction;
            if (rip == at + (ulong)length) return ExitRip.PastInstruction;
            notes.Add($"{what}: RIP 0x{rip:x} is neither at 0x{at:x} nor past the instruction");
            return ExitRip.PastInstruction;
        }

        public void Dispose() => _vm.Dispose();
    }
}
