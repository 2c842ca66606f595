using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>A segment register's hidden descriptor cache (the kernel's <c>struct kvm_segment</c>).</summary>
public struct Segment
{
    internal kvm_segment Raw;

    /// <summary>Segment base address.</summary>
    public ulong Base { readonly get => Raw.@base; set => Raw.@base = value; }

    /// <summary>Segment limit in bytes (already scaled by G).</summary>
    public uint Limit { readonly get => Raw.limit; set => Raw.limit = value; }

    /// <summary>The visible selector.</summary>
    public ushort Selector { readonly get => Raw.selector; set => Raw.selector = value; }

    /// <summary>Descriptor type (e.g. 0xB execute/read accessed code, 0x3 read/write accessed data).</summary>
    public byte Type { readonly get => Raw.type; set => Raw.type = value; }

    /// <summary>P: 1 if present.</summary>
    public byte Present { readonly get => Raw.present; set => Raw.present = value; }

    /// <summary>Descriptor privilege level.</summary>
    public byte Dpl { readonly get => Raw.dpl; set => Raw.dpl = value; }

    /// <summary>D/B: 1 for 32-bit default operand size.</summary>
    public byte Db { readonly get => Raw.db; set => Raw.db = value; }

    /// <summary>S: 1 for code/data, 0 for system segments.</summary>
    public byte S { readonly get => Raw.s; set => Raw.s = value; }

    /// <summary>L: 1 for a 64-bit code segment.</summary>
    public byte L { readonly get => Raw.l; set => Raw.l = value; }

    /// <summary>G: 1 for 4 KiB limit granularity.</summary>
    public byte G { readonly get => Raw.g; set => Raw.g = value; }

    /// <summary>AVL: available to software.</summary>
    public byte Avl { readonly get => Raw.avl; set => Raw.avl = value; }

    /// <summary>1 if the segment register holds a null/unusable selector.</summary>
    public byte Unusable { readonly get => Raw.unusable; set => Raw.unusable = value; }

    /// <inheritdoc/>
    public override readonly string ToString() =>
        $"sel=0x{Raw.selector:X4} base=0x{Raw.@base:X} limit=0x{Raw.limit:X} type=0x{Raw.type:X} p={Raw.present} dpl={Raw.dpl} db={Raw.db} s={Raw.s} l={Raw.l} g={Raw.g}";
}
