namespace KvmLab.Guests;

/// <summary>The instruction a trap was attributed to, and how sure that attribution is.</summary>
/// <param name="Instruction">The chosen instruction.</param>
/// <param name="Candidates">Every decoding consistent with the exit (the chosen one first). More than one means
/// the bytes before RIP admit several instruction boundaries that all end at RIP and all perform such an access.</param>
public sealed record TrappedInstruction(DisassembledInstruction Instruction, IReadOnlyList<DisassembledInstruction> Candidates)
{
    /// <summary>True when more than one decoding fits the exit.</summary>
    public bool IsAmbiguous => Candidates.Count > 1;
}
