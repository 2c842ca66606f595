namespace KvmLab.Fuzzing;

/// <summary>The result of <see cref="DeviceFuzzer.Run"/>.</summary>
/// <param name="Seed">The seed of the operation sequence.</param>
/// <param name="Operations">Operations executed.</param>
/// <param name="Kinds">How many operations of each kind.</param>
/// <param name="BarMoves">BAR mapping changes the bus reported.</param>
/// <param name="DmaCompleted">Guest-memory calls served (inside RAM).</param>
/// <param name="DmaRefused">Guest-memory calls refused (outside RAM).</param>
/// <param name="MemoryCalls">Guest-memory calls checked in all.</param>
/// <param name="Violations">Exceptions and broken invariants, each with the operation that caused it.</param>
/// <param name="Elapsed">Wall time.</param>
internal sealed record DeviceFuzzReport(
    ulong Seed,
    long Operations,
    IReadOnlyDictionary<DeviceOperationKind, long> Kinds,
    long BarMoves,
    long DmaCompleted,
    long DmaRefused,
    long MemoryCalls,
    IReadOnlyList<string> Violations,
    TimeSpan Elapsed)
{
    /// <summary>True when no exception escaped and every invariant held.</summary>
    public bool Passed => Violations.Count == 0;
}
