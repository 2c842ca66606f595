namespace KvmLab.Kvm;

/// <summary>One CPUID leaf as KVM reports or accepts it (<c>struct kvm_cpuid_entry2</c>).</summary>
/// <param name="Function">The leaf (EAX input).</param>
/// <param name="Index">The subleaf (ECX input) when <see cref="Flags"/> says it is significant.</param>
/// <param name="Flags">KVM_CPUID_FLAG_* bits.</param>
/// <param name="Eax">EAX output.</param>
/// <param name="Ebx">EBX output.</param>
/// <param name="Ecx">ECX output.</param>
/// <param name="Edx">EDX output.</param>
internal readonly record struct CpuidEntry(uint Function, uint Index, uint Flags, uint Eax, uint Ebx, uint Ecx, uint Edx)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"CPUID 0x{Function:X8}.0x{Index:X}: eax=0x{Eax:X8} ebx=0x{Ebx:X8} ecx=0x{Ecx:X8} edx=0x{Edx:X8}";
}
