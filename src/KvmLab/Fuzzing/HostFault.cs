namespace KvmLab.Fuzzing;

/// <summary>A failure of the host side: an exception escaped loading or running a guest, a run missed its deadline or
/// never came back, an outcome the case could not produce, the machine was left unusable, or resources leaked. Guest
/// misbehaviour is never a host fault.</summary>
/// <param name="Case">The case that was running (null for a leak found at the end of the session).</param>
/// <param name="What">A short classification.</param>
/// <param name="Detail">The exception text or the measured facts.</param>
/// <param name="Preceding">The cases that ran on the same machine before <paramref name="Case"/>, in order: replaying
/// them first (<see cref="GuestFuzzer.Replay"/>, <c>kvmlab fuzz --case N --after ...</c>) recreates the machine's state.</param>
internal sealed record HostFault(FuzzCase? Case, string What, string Detail, IReadOnlyList<long> Preceding)
{
    /// <inheritdoc />
    public override string ToString()
    {
        if (Case is null) return $"{What}: {Detail}";
        var after = Preceding.Count == 0 ? "on a fresh machine" : $"after case{(Preceding.Count == 1 ? "" : "s")} {string.Join(", ", Preceding)} on the same machine";
        return $"{What} in {Case} ({after}): {Detail}";
    }
}
