namespace KvmLab.Kvm.Stats;

/// <summary>
/// One statistic a KVM stats file offers, as its descriptor block says (<c>struct kvm_stats_desc</c> in
/// &lt;linux/kvm.h&gt;): the kernel's own name, what kind of value it is, its unit and scale, and where its values sit in
/// the data block. The set differs between kernels and backends; read it, never assume it.
/// </summary>
/// <param name="Name">The kernel's name, e.g. <c>io_exits</c> (the field of <c>struct kvm_vcpu_stat</c>).</param>
/// <param name="Kind">Counter, level, peak or histogram.</param>
/// <param name="Unit">Unit of the values.</param>
/// <param name="PowerOfTwo">True when <paramref name="Exponent"/> scales by 2 (<c>KVM_STATS_BASE_POW2</c>), else by 10.</param>
/// <param name="Exponent">The value times base^exponent is the quantity in <paramref name="Unit"/> (-9 for ns).</param>
/// <param name="Size">Number of 64-bit values: 1, or the number of buckets of a histogram.</param>
/// <param name="Offset">Byte offset of the first value from the start of the data block.</param>
/// <param name="BucketSize">Width of a bucket of a linear histogram; 0 otherwise.</param>
public sealed record KvmStatDescriptor(
    string Name, KvmStatKind Kind, KvmStatUnit Unit, bool PowerOfTwo, short Exponent, int Size, int Offset, int BucketSize)
{
    /// <summary>True for the kinds whose change between two reads counts events (<see cref="KvmStatKind.Cumulative"/>).</summary>
    public bool IsCounter => Kind == KvmStatKind.Cumulative;

    /// <summary>True for histograms (more than one value).</summary>
    public bool IsHistogram => Kind is KvmStatKind.LinearHistogram or KvmStatKind.LogHistogram;

    /// <summary>Index of the first value in a snapshot's array of 64-bit values.</summary>
    internal int Index => Offset / sizeof(ulong);

    /// <inheritdoc/>
    public override string ToString()
    {
        var scale = Exponent == 0 ? "" : $" x{(PowerOfTwo ? 2 : 10)}^{Exponent}";
        var unit = Unit == KvmStatUnit.None ? "" : $" {Unit.ToString().ToLowerInvariant()}";
        var size = Size == 1 ? "" : $"[{Size}]";
        return $"{Name}{size}: {Kind.ToString().ToLowerInvariant()}{unit}{scale}";
    }
}
