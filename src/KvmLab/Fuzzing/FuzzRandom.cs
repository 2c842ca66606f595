namespace KvmLab.Fuzzing;

/// <summary>
/// SplitMix64: a tiny deterministic generator whose sequence is fixed by this file, not by the runtime version, so
/// that a seed printed today reproduces the same case on any later .NET.
/// </summary>
internal struct FuzzRandom
{
    private ulong _state;

    /// <summary>Starts the sequence of <paramref name="seed"/>.</summary>
    public FuzzRandom(ulong seed) => _state = seed;

    /// <summary>The seed of case <paramref name="index"/> of a fuzz session started with <paramref name="seed"/>.</summary>
    public static ulong CaseSeed(ulong seed, long index)
    {
        var r = new FuzzRandom(seed ^ ((ulong)index * 0xD1B54A32D192ED03UL));
        return r.NextUInt64();
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in 0..<paramref name="bound"/>-1 (<paramref name="bound"/> &gt; 0).</summary>
    public int Next(int bound) => (int)(NextUInt64() % (ulong)bound);

    /// <summary>A number in <paramref name="min"/>..<paramref name="max"/>-1.</summary>
    public int Next(int min, int max) => min + Next(max - min);

    /// <summary>True with probability 1/<paramref name="n"/>.</summary>
    public bool OneIn(int n) => Next(n) == 0;

    /// <summary>One element of <paramref name="items"/>.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Fills <paramref name="bytes"/> with random bytes.</summary>
    public void Fill(Span<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = (byte)NextUInt64();
    }
}
