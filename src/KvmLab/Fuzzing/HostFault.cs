namespace KvmLab.Fuzzing;

/// <summary>A failure of the host side: an exception escaped loading or running a guest, a run missed its deadline,
/// the machine was left unusable, or resources leaked. Guest misbehaviour is never a host fault.</summary>
/// <param name="Case">The case that was running (null for a leak found at the end of the session).</param>
/// <param name="What">A short classification.</param>
/// <param name="Detail">The exception text or the measured facts.</param>
public sealed record HostFault(FuzzCase? Case, string What, string Detail)
{
    /// <inheritdoc />
    public override string ToString() => Case is null ? $"{What}: {Detail}" : $"{What} in {Case}: {Detail}";
}
