using KvmLab.Loading;

namespace KvmLab.Guests;

/// <summary>One lesson of the guest library: a tiny guest, what it teaches and how to build it.</summary>
/// <param name="Name">Short, stable name (<c>hello</c>, <c>pci-scan</c>, ...).</param>
/// <param name="Summary">One line for listings.</param>
/// <param name="Doc">What the guest teaches and what the user should observe in its trace and output.</param>
/// <param name="DefaultMode">The mode the guest is meant to be run in.</param>
/// <param name="Modes">Every mode the guest can be built for.</param>
/// <param name="Builder">Builds the image for one of <paramref name="Modes"/>.</param>
/// <param name="Board">The board the guest needs ("q35"), or null when it runs on any board.</param>
public sealed record Guest(
    string Name,
    string Summary,
    string Doc,
    CpuMode DefaultMode,
    IReadOnlyList<CpuMode> Modes,
    Func<CpuMode, GuestImage> Builder,
    string? Board = null)
{
    /// <summary>Builds the guest for <paramref name="mode"/> (default: <see cref="DefaultMode"/>).</summary>
    /// <exception cref="ArgumentException">The guest has no variant for that mode.</exception>
    public GuestImage Build(CpuMode? mode = null)
    {
        var m = mode ?? DefaultMode;
        if (!Modes.Contains(m))
            throw new ArgumentException($"Guest '{Name}' is built for {string.Join(", ", Modes)}, not {m}.", nameof(mode));
        var image = Builder(m);
        return Board is null ? image : image with { Board = Board };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Summary}";
}
