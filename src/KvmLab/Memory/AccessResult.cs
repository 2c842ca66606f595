namespace KvmLab.Memory;

/// <summary>
/// What one <see cref="AddressSpace"/> access did: which region and register it reached and whether it was served.
/// A small value type so that dispatching an exit allocates nothing. When the access was split (it straddled
/// regions or was cut by alignment), <see cref="Region"/> and <see cref="Offset"/> describe its first byte and
/// <see cref="Status"/> is the first status that was not <see cref="AccessStatus.Ok"/>.
/// </summary>
public readonly struct AccessResult
{
    /// <summary>Creates a result.</summary>
    public AccessResult(MemoryRegion? region, ulong offset, AccessStatus status, int registerIndex, int pieces)
    {
        Region = region;
        Offset = offset;
        Status = status;
        RegisterIndex = registerIndex;
        Pieces = pieces;
    }

    /// <summary>The device region that took the first byte, or null when it hit nothing.</summary>
    public MemoryRegion? Region { get; }

    /// <summary>Offset of the first byte within <see cref="Region"/> (the address itself when unassigned).</summary>
    public ulong Offset { get; }

    /// <summary>How the access was handled.</summary>
    public AccessStatus Status { get; }

    /// <summary>Index into <see cref="Region"/>'s register map, or -1.</summary>
    public int RegisterIndex { get; }

    /// <summary>How many pieces the memory core split the access into (1 unless it straddled regions or was misaligned).</summary>
    public int Pieces { get; }

    /// <summary>The register the access hit, or null.</summary>
    public Register? Register => RegisterIndex >= 0 && Region?.Registers is { } map ? map[RegisterIndex] : null;

    /// <summary>The register's name, or null.</summary>
    public string? RegisterName => Register?.Name;

    /// <summary>Whether a device took every byte.</summary>
    public bool IsOk => Status == AccessStatus.Ok;

    /// <inheritdoc />
    public override string ToString() =>
        Region is null ? $"{Status} @0x{Offset:x}" : $"{Status} {Region.Name}+0x{Offset:x}{(RegisterName is { } n ? " " + n : "")}";
}
