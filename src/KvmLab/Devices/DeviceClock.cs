using System.Diagnostics;

namespace KvmLab.Devices;

/// <summary>
/// The devices' timer wheel (QEMU: timers on QEMU_CLOCK_VIRTUAL and the work edu's factorial thread does). The run
/// loop calls <see cref="RunDue(long)"/> between exits and, while the vCPU runs, kicks it out of KVM_RUN at
/// <see cref="NextDueTicks"/>. Times are <see cref="Stopwatch"/> ticks. Single-threaded: callbacks run on the
/// thread that calls <see cref="RunDue(long)"/>, so devices need no locks.
/// </summary>
public sealed class DeviceClock
{
    private readonly PriorityQueue<Action, (long Due, long Sequence)> _queue = new();
    private readonly Func<long> _now;
    private long _sequence;

    /// <summary>A clock reading <see cref="Stopwatch.GetTimestamp"/>.</summary>
    public DeviceClock()
        : this(Stopwatch.GetTimestamp)
    {
    }

    /// <summary>A clock reading time from <paramref name="now"/> (tests pass a manual time source).</summary>
    public DeviceClock(Func<long> now)
    {
        ArgumentNullException.ThrowIfNull(now);
        _now = now;
    }

    /// <summary>The current time in ticks.</summary>
    public long Now => _now();

    /// <summary>When the earliest pending callback is due, or null when nothing is pending.</summary>
    public long? NextDueTicks => _queue.TryPeek(out _, out var key) ? key.Due : null;

    /// <summary>Number of pending callbacks.</summary>
    public int Pending => _queue.Count;

    /// <summary>
    /// Raised when a newly scheduled callback became the earliest one, so a run loop blocked in KVM_RUN can kick the
    /// vCPU and re-arm its deadline.
    /// </summary>
    public event Action<long>? DeadlineChanged;

    /// <summary>Runs <paramref name="callback"/> once <paramref name="delay"/> has passed (at the first <see cref="RunDue(long)"/> after it).</summary>
    public void Schedule(TimeSpan delay, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        long due = _now() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        long? before = NextDueTicks;
        _queue.Enqueue(callback, (due, _sequence++));
        if (before is null || due < before)
        {
            DeadlineChanged?.Invoke(due);
        }
    }

    /// <summary>Runs, in due order, every callback due at or before <paramref name="nowTicks"/>; returns how many ran.</summary>
    public int RunDue(long nowTicks)
    {
        int ran = 0;
        while (_queue.TryPeek(out Action? callback, out var key) && key.Due <= nowTicks)
        {
            _queue.Dequeue();
            callback();
            ran++;
        }

        return ran;
    }

    /// <summary>Runs every callback due now.</summary>
    public int RunDue() => RunDue(_now());
}
