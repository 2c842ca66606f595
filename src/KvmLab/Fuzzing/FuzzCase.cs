using KvmLab.Loading;

namespace KvmLab.Fuzzing;

/// <summary>One generated guest: everything needed to run it again is <see cref="Index"/> and the session seed.</summary>
/// <param name="Index">Position in the session (0-based).</param>
/// <param name="Seed">The case's own seed, derived from the session seed and <paramref name="Index"/>.</param>
/// <param name="Kind">How the image was made.</param>
/// <param name="Origin">A short description: the template a mutation started from, or the generator.</param>
/// <param name="Image">The guest image.</param>
internal sealed record FuzzCase(long Index, ulong Seed, FuzzCaseKind Kind, string Origin, GuestImage Image)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"case {Index} (seed 0x{Seed:x16}): {Kind} {Origin}, {Image.Mode} mode, {Image.Bytes.Length} bytes at 0x{Image.LoadAddress:x}";
}
