namespace KvmLab.Fuzzing;

/// <summary>How a fuzz case's guest image was made.</summary>
internal enum FuzzCaseKind
{
    /// <summary>Uniformly random bytes: mostly invalid or meaningless instructions.</summary>
    RandomBytes,

    /// <summary>Random sequences of port, MMIO, configuration and control-register instructions with wild operands.</summary>
    InstructionSoup,

    /// <summary>A library guest with a few bytes flipped, replaced or copied.</summary>
    Mutation,
}
