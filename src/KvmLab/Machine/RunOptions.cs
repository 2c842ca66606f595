using KvmLab.Tracing;

namespace KvmLab;

/// <summary>Decides, for each traced exit, whether a run should stop after it.</summary>
public delegate bool ExitCondition(in ExitRecord record);

/// <summary>Limits of one <see cref="Machine.Run(RunOptions?)"/>. Whatever comes first ends the run.</summary>
public sealed record RunOptions
{
    /// <summary>Stop after this many KVM exits (0 = no limit).</summary>
    public long MaxExits { get; init; }

    /// <summary>Stop when this much wall time has passed (default 10 s; <see cref="Timeout.InfiniteTimeSpan"/> for none).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Stop when cancelled (a notebook cell's cancellation, Ctrl+C).</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Stop after the first exit for which this returns true.</summary>
    public ExitCondition? Until { get; init; }
}
