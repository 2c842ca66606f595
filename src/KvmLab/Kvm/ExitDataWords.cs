namespace KvmLab.Kvm;

/// <summary>
/// Up to four 64-bit data words an exit carries (kvm_run's internal-error and system-event data), held inline so
/// that decoding an exit allocates nothing. KVM may report more words; <see cref="Count"/> is the kernel's count.
/// </summary>
public readonly struct ExitDataWords
{
    /// <summary>How many words are kept inline.</summary>
    public const int Capacity = 4;

    private readonly ulong _w0, _w1, _w2, _w3;

    internal ExitDataWords(uint count, ulong w0, ulong w1, ulong w2, ulong w3)
    {
        Count = count;
        (_w0, _w1, _w2, _w3) = (w0, w1, w2, w3);
    }

    /// <summary>Number of words the kernel reported (may exceed <see cref="Capacity"/>).</summary>
    public uint Count { get; }

    /// <summary>Word <paramref name="index"/> (0 .. min(Count, Capacity) - 1).</summary>
    public ulong this[int index] =>
        index < Math.Min((int)Count, Capacity) && index >= 0
            ? index switch { 0 => _w0, 1 => _w1, 2 => _w2, _ => _w3 }
            : throw new ArgumentOutOfRangeException(nameof(index), $"Word {index} of {Count} (at most {Capacity} kept).");

    /// <inheritdoc/>
    public override string ToString()
    {
        int n = Math.Min((int)Count, Capacity);
        return n switch
        {
            0 => "[]",
            1 => $"[0x{_w0:X}]",
            2 => $"[0x{_w0:X}, 0x{_w1:X}]",
            3 => $"[0x{_w0:X}, 0x{_w1:X}, 0x{_w2:X}]",
            _ => $"[0x{_w0:X}, 0x{_w1:X}, 0x{_w2:X}, 0x{_w3:X}{(Count > Capacity ? ", ..." : "")}]",
        };
    }
}
