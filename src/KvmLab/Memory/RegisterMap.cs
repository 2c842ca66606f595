namespace KvmLab.Memory;

/// <summary>
/// A device region's registers, sorted by offset. <see cref="Find"/> runs on every exit, so it is a binary search
/// over an array and allocates nothing; the names it leads to are the static strings of the device file.
/// </summary>
public sealed class RegisterMap : IReadOnlyList<Register>
{
    private readonly Register[] _registers;

    /// <summary>Builds a map; registers must not overlap.</summary>
    /// <exception cref="ArgumentException">Two registers overlap or a register has no width.</exception>
    public RegisterMap(params Register[] registers)
    {
        _registers = registers.OrderBy(r => r.Offset).ToArray();
        for (int i = 0; i < _registers.Length; i++)
        {
            if (_registers[i].Size <= 0)
            {
                throw new ArgumentException($"Register {_registers[i].Name} has size {_registers[i].Size}.", nameof(registers));
            }

            if (i > 0 && _registers[i - 1].Offset + (ulong)_registers[i - 1].Size > _registers[i].Offset)
            {
                Register a = _registers[i - 1], b = _registers[i];
                throw new ArgumentException(
                    $"Registers {a.Name} {MemoryRegion.FormatRange(a.Offset, (ulong)a.Size)} and {b.Name} {MemoryRegion.FormatRange(b.Offset, (ulong)b.Size)} overlap.",
                    nameof(registers));
            }
        }
    }

    /// <summary>The registers in offset order.</summary>
    public IReadOnlyList<Register> Registers => _registers;

    /// <summary>Number of registers.</summary>
    public int Count => _registers.Length;

    /// <summary>The register at <paramref name="index"/> (as returned by <see cref="Find"/>).</summary>
    public Register this[int index] => _registers[index];

    /// <summary>Index of the register containing <paramref name="offset"/>, or -1 when no register covers it.</summary>
    public int Find(ulong offset)
    {
        int lo = 0, hi = _registers.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            Register r = _registers[mid];
            if (r.Contains(offset))
            {
                return mid;
            }

            if (offset < r.Offset)
            {
                hi = mid - 1;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return -1;
    }

    /// <summary>The registers in offset order: a map reads as its list (<c>Edu.Registers.Select(...)</c>).</summary>
    public IEnumerator<Register> GetEnumerator() => ((IEnumerable<Register>)_registers).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
