using KvmLab.Memory;

namespace KvmLab.Fuzzing;

/// <summary>
/// Stands between devices and the real DMA path (<see cref="RamDma"/> over an mmap'ed <see cref="Kvm.GuestMemory"/>)
/// and checks every call independently: a range not entirely inside RAM must be refused, one inside must be served.
/// Any other answer is recorded as a violation (a device could have reached host memory beyond guest RAM).
/// </summary>
internal sealed class CheckedGuestMemory(IGuestPhysicalMemory inner, ulong ramBase, ulong ramSize) : IGuestPhysicalMemory
{
    public List<string> Violations { get; } = new();

    public long Served { get; private set; }

    public long Refused { get; private set; }

    public bool TryRead(ulong gpa, Span<byte> dst) => Check("read", gpa, dst.Length, inner.TryRead(gpa, dst));

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> src) => Check("write", gpa, src.Length, inner.TryWrite(gpa, src));

    private bool Check(string what, ulong gpa, int length, bool answered)
    {
        bool inside = gpa >= ramBase && (ulong)length <= ramSize && gpa - ramBase <= ramSize - (ulong)length;
        if (answered) Served++;
        else Refused++;
        if (answered && !inside)
            Violations.Add($"DMA {what} of 0x{gpa:x}..+0x{length:x} was served although it leaves guest RAM 0x{ramBase:x}..+0x{ramSize:x}");
        else if (!answered && inside)
            Violations.Add($"DMA {what} of 0x{gpa:x}..+0x{length:x} was refused although it lies inside guest RAM");
        return answered;
    }
}
