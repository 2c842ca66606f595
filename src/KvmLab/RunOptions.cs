using KvmLab.Tracing;

namespace KvmLab;

/// <summary>Decides, for each traced exit, whether a run should stop after it.</summary>
public delegate bool ExitCondition(in ExitRecord record);

/// <summary>Limits of one <see cref="Machine.Run(RunOptions?)"/>. Whatever comes first ends the run.</summary>
public sealed record RunOptions
{
    /// <summary>Stop after this many KVM exits (0 = no limit).</summary>
    public long MaxExits { get; init; }

    /// <summary>Stop when this much wall time has passed (default <see cref="DefaultTimeout"/>;
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none).</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>
    /// The deadline of a run that sets none: 10 s, which every library guest meets by orders of magnitude on hardware
    /// KVM, or the number of seconds in the environment variable <c>KVMLAB_RUN_TIMEOUT</c>, for hosts whose CPU is
    /// emulated (tools/nested-kvm, where an exit costs milliseconds) and for long experiments.
    /// </summary>
    /// <exception cref="InvalidOperationException">KVMLAB_RUN_TIMEOUT is set but is not a positive number of seconds.</exception>
    public static TimeSpan DefaultTimeout => LazyDefault.Value;

    private static readonly Lazy<TimeSpan> LazyDefault = new(() =>
    {
        var text = Environment.GetEnvironmentVariable("KVMLAB_RUN_TIMEOUT");
        if (string.IsNullOrWhiteSpace(text)) return TimeSpan.FromSeconds(10);
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0 && seconds < TimeSpan.MaxValue.TotalSeconds)
            return TimeSpan.FromSeconds(seconds);
        throw new InvalidOperationException(
            $"KVMLAB_RUN_TIMEOUT='{text}' is not a positive number of seconds: set it to one (e.g. 250) or unset it for the default of 10 s.");
    });

    /// <summary>Stop when cancelled (a notebook cell's cancellation, Ctrl+C).</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Stop after the first exit for which this returns true.</summary>
    public ExitCondition? Until { get; init; }
}
