namespace KvmLab.Memory;

/// <summary>One entry of a device's register map: what a person reading a trace needs to know about an offset.</summary>
/// <param name="Offset">Offset of the register within its region.</param>
/// <param name="Size">Width in bytes.</param>
/// <param name="Access">Directions the register honours.</param>
/// <param name="Name">Short name, as in the device's documentation.</param>
/// <param name="Meaning">One line on what the register does.</param>
public sealed record Register(ulong Offset, int Size, RegisterAccess Access, string Name, string Meaning)
{
    /// <summary>Whether <paramref name="offset"/> falls inside this register.</summary>
    public bool Contains(ulong offset) => offset >= Offset && offset - Offset < (ulong)Size;

    /// <inheritdoc />
    public override string ToString() => $"0x{Offset:x2} {Name} ({Access}, {Size} B): {Meaning}";
}
