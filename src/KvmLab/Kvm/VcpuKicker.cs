using System.Diagnostics;

namespace KvmLab.Kvm;

/// <summary>
/// A deadline for a run loop: after <see cref="Arm"/> it calls <see cref="Vcpu.RequestStop"/> once the time is up,
/// unless <see cref="Disarm"/> came first. One background thread serves all arm/disarm cycles, so arming a
/// deadline per run costs no allocation and no thread start.
/// </summary>
public sealed class VcpuKicker : IDisposable
{
    private readonly object _lock = new();
    private readonly Thread _thread;
    private Vcpu? _target;
    private long _deadline;
    private long _generation;
    private long _wakeAt = long.MaxValue;
    private bool _disposed;

    /// <summary>Starts the kicker's background thread (idle until armed).</summary>
    public VcpuKicker()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "KvmLab vCPU kicker" };
        _thread.Start();
    }

    /// <summary>How many times a deadline expired and a stop was requested.</summary>
    public long Kicks { get; private set; }

    /// <summary>Requests a stop of <paramref name="vcpu"/> after <paramref name="timeout"/>, replacing any armed deadline.</summary>
    public void Arm(Vcpu vcpu, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _target = vcpu;
            _deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            _generation++;
            // A thread that wakes before the new deadline re-reads it then: waking it now would cost a context switch
            // per Machine.Step, which arms and disarms around every single KVM_RUN.
            if (_deadline < _wakeAt)
                Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Cancels the armed deadline, if any. A stop already requested stays requested (the next Run returns Intr).</summary>
    public void Disarm()
    {
        lock (_lock)
        {
            // No wake-up: at its next deadline the thread finds nothing armed and goes idle.
            _target = null;
            _generation++;
        }
    }

    /// <summary>Stops the background thread.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _target = null;
            Monitor.PulseAll(_lock);
        }
        _thread.Join();
    }

    private void Loop()
    {
        lock (_lock)
        {
            while (!_disposed)
            {
                if (_target is null)
                {
                    _wakeAt = long.MaxValue;
                    Monitor.Wait(_lock);
                    continue;
                }
                long remaining = _deadline - Stopwatch.GetTimestamp();
                if (remaining > 0)
                {
                    long generation = _generation;
                    int ms = (int)Math.Min(int.MaxValue, Math.Max(1, remaining * 1000 / Stopwatch.Frequency));
                    _wakeAt = _deadline;
                    Monitor.Wait(_lock, ms);
                    _wakeAt = long.MaxValue;
                    if (generation != _generation)
                        continue;
                    if (_deadline - Stopwatch.GetTimestamp() > 0)
                        continue;
                }
                var target = _target;
                _target = null;
                Kicks++;
                target?.RequestStop();
            }
        }
    }
}
