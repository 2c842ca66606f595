namespace KvmLab.Kvm;

/// <summary>What a debug address register (DR0-DR3) watches: the RWn field of DR7.</summary>
public enum BreakpointKind
{
    /// <summary>RW = 00: fetching the instruction at the address (length must be 1).</summary>
    Execute = 0,

    /// <summary>RW = 01: a data write to the watched bytes.</summary>
    Write = 1,

    /// <summary>RW = 11: a data read or write of the watched bytes.</summary>
    ReadWrite = 3,
}

/// <summary>
/// One debug address register: a linear address, what to watch there, and (for data) how many bytes (1, 2, 4 or 8,
/// aligned to that size, as DR7's LENn field requires).
/// </summary>
public readonly record struct HardwareBreakpoint(ulong Address, BreakpointKind Kind = BreakpointKind.Execute, int Length = 1)
{
    /// <summary>DR7's LENn encoding of <see cref="Length"/>: 00 = 1 byte, 01 = 2, 11 = 4, 10 = 8.</summary>
    internal ulong LengthBits => Length switch
    {
        1 => 0b00,
        2 => 0b01,
        4 => 0b11,
        8 => 0b10,
        _ => throw new ArgumentException($"A debug register watches 1, 2, 4 or 8 bytes, not {Length}.", nameof(Length)),
    };

    /// <summary>Throws when the breakpoint cannot be expressed in DR0-DR3/DR7.</summary>
    internal void Validate()
    {
        _ = LengthBits;
        if (Kind == BreakpointKind.Execute && Length != 1)
            throw new ArgumentException($"An execute breakpoint watches 1 byte; got length {Length} at 0x{Address:x}.");
        if (Address % (ulong)Length != 0)
            throw new ArgumentException($"A {Length}-byte watchpoint must be aligned to {Length}: 0x{Address:x} is not.");
    }
}
