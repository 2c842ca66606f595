using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>A descriptor-table register, GDTR or IDTR (the kernel's <c>struct kvm_dtable</c>).</summary>
public struct DescriptorTable
{
    internal kvm_dtable Raw;

    /// <summary>Linear address of the table.</summary>
    public ulong Base { readonly get => Raw.@base; set => Raw.@base = value; }

    /// <summary>Limit: size of the table in bytes minus one.</summary>
    public ushort Limit { readonly get => Raw.limit; set => Raw.limit = value; }

    /// <inheritdoc/>
    public override readonly string ToString() => $"base=0x{Raw.@base:X} limit=0x{Raw.limit:X}";
}
