using KvmLab.Loading;

namespace KvmLab.Guests;

/// <summary>The operand width each <see cref="CpuMode"/> runs code at, which both Iced's assembler and decoder take.</summary>
internal static class CpuModeBitness
{
    /// <summary>16 for real mode, 32 for protected mode, 64 for long mode.</summary>
    public static int Bitness(this CpuMode mode) => mode switch
    {
        CpuMode.Real => 16,
        CpuMode.Protected => 32,
        CpuMode.Long => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };
}
