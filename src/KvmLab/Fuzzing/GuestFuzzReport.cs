namespace KvmLab.Fuzzing;

/// <summary>The result of a <see cref="GuestFuzzer"/> session.</summary>
/// <param name="Options">What was run.</param>
/// <param name="Runs">Cases run to an outcome (fewer than asked when cancelled).</param>
/// <param name="Outcomes">How many runs ended for each reason.</param>
/// <param name="Kinds">How many cases of each kind were run.</param>
/// <param name="Faults">Host faults; empty on success.</param>
/// <param name="Exits">KVM exits taken by all runs.</param>
/// <param name="Machines">Machines built (one per worker per <see cref="GuestFuzzOptions.RecycleEvery"/> runs, plus one after each fault).</param>
/// <param name="LongestRun">The longest single run (compare with the timeout).</param>
/// <param name="Elapsed">Wall time of the session.</param>
/// <param name="Before">Process resources before the session.</param>
/// <param name="After">Process resources after every machine was disposed.</param>
internal sealed record GuestFuzzReport(
    GuestFuzzOptions Options,
    long Runs,
    IReadOnlyDictionary<StopReason, long> Outcomes,
    IReadOnlyDictionary<FuzzCaseKind, long> Kinds,
    IReadOnlyList<HostFault> Faults,
    long Exits,
    long Machines,
    TimeSpan LongestRun,
    TimeSpan Elapsed,
    ResourceSnapshot Before,
    ResourceSnapshot After)
{
    /// <summary>True when no host fault happened.</summary>
    public bool Passed => Faults.Count == 0;
}
