using KvmLab.Kvm;

namespace KvmLab.Testing;

/// <summary>
/// What a test may expect of the KVM it runs on, per backend, from the sources that define it, so that a test asserts
/// the rule of its backend and never one backend's behaviour as universal. SVM and VMX share KVM's x86 code
/// (arch/x86/kvm/x86.c): port I/O leaves RIP at the IN/OUT (kvm_fast_pio; complete_fast_pio_out/_in skip it on the
/// next KVM_RUN), MMIO writes are completed by the emulator before the exit, MMIO reads wait at the instruction.
/// kvm_pvm was measured: RIP is past an OUT. On an unknown backend the probe's answer is all there is.
/// </summary>
public static class BackendRules
{
    /// <summary>Where RIP is at a KVM_EXIT_IO for OUT.</summary>
    public static ExitRip Out => KvmBackends.Current switch
    {
        KvmBackend.Svm or KvmBackend.Vmx => ExitRip.AtInstruction,
        KvmBackend.Pvm => ExitRip.PastInstruction,
        _ => KvmBehaviour.Current.OutRip,
    };

    /// <summary>Where RIP is at a KVM_EXIT_IO for IN (at it on every backend measured).</summary>
    public static ExitRip In => KvmBackends.Current == KvmBackend.Unknown ? KvmBehaviour.Current.InRip : ExitRip.AtInstruction;

    /// <summary>Where RIP is at a KVM_EXIT_MMIO for a write (past it on every backend measured).</summary>
    public static ExitRip MmioWrite => KvmBackends.Current == KvmBackend.Unknown ? KvmBehaviour.Current.MmioWriteRip : ExitRip.PastInstruction;

    /// <summary>Where RIP is at a KVM_EXIT_MMIO for a read (at it on every backend measured).</summary>
    public static ExitRip MmioRead => KvmBackends.Current == KvmBackend.Unknown ? KvmBehaviour.Current.MmioReadRip : ExitRip.AtInstruction;

    /// <summary>RIP expected at an exit for the instruction at <paramref name="at"/> of <paramref name="length"/> bytes.</summary>
    public static ulong Rip(ExitRip rule, ulong at, int length) => rule == ExitRip.AtInstruction ? at : at + (ulong)length;
}
