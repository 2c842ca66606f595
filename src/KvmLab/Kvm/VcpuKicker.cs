using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace KvmLab.Kvm;

/// <summary>
/// A deadline for a run loop: after <see cref="Arm"/> it calls <see cref="Vcpu.RequestStop"/> once the time is up,
/// unless <see cref="Disarm"/> came first. One background thread serves all arm/disarm cycles, so arming a
/// deadline per run costs no allocation and no thread start. The thread holds only the deadline state, not the
/// kicker, so a kicker that is dropped without <see cref="Dispose"/> is finalized and its thread ends.
/// </summary>
internal sealed class VcpuKicker : IDisposable
{
    private readonly State _state = new();
    private readonly Thread _thread;

    /// <summary>Starts the kicker's background thread (idle until armed).</summary>
    public VcpuKicker()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "KvmLab vCPU kicker" };
        _thread.Start(_state);
    }

    /// <summary>Ends the background thread of a kicker nobody disposed.</summary>
    ~VcpuKicker() => _state.Stop();

    /// <summary>How many times a deadline expired and a stop was requested.</summary>
    public long Kicks
    {
        get
        {
            lock (_state)
                return _state.Kicks;
        }
    }

    /// <summary>Requests a stop of <paramref name="vcpu"/> after <paramref name="timeout"/>, replacing any armed deadline.</summary>
    public void Arm(Vcpu vcpu, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        lock (_state)
        {
            ObjectDisposedException.ThrowIf(_state.Disposed, this);
            _state.Target = vcpu;
            _state.Deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            _state.Generation++;
            // A thread that wakes before the new deadline re-reads it then: waking it now would cost a context switch
            // per Machine.Step, which arms and disarms around every single KVM_RUN.
            if (_state.Deadline < _state.WakeAt)
                Monitor.PulseAll(_state);
        }
    }

    /// <summary>
    /// Requests a stop of <paramref name="vcpu"/> once <see cref="Stopwatch.GetTimestamp"/> reaches
    /// <paramref name="deadlineTicks"/>, replacing any armed deadline: for a run loop that has already read the clock.
    /// </summary>
    internal void ArmUntil(Vcpu vcpu, long deadlineTicks)
    {
        lock (_state)
        {
            ObjectDisposedException.ThrowIf(_state.Disposed, this);
            _state.Target = vcpu;
            _state.Deadline = deadlineTicks;
            _state.Generation++;
            if (_state.Deadline < _state.WakeAt)
                Monitor.PulseAll(_state);
        }
    }

    /// <summary>Cancels the armed deadline, if any. A stop already requested stays requested (the next Run returns Intr).</summary>
    public void Disarm()
    {
        lock (_state)
        {
            // No wake-up: at its next deadline the thread finds nothing armed and goes idle.
            _state.Target = null;
            _state.Generation++;
        }
    }

    /// <summary>Stops the background thread.</summary>
    public void Dispose()
    {
        _state.Stop();
        _thread.Join();
        GC.SuppressFinalize(this);
    }

    private static void Loop(object? argument)
    {
        var state = (State)argument!;
        lock (state)
        {
            while (!state.Disposed)
            {
                if (state.Target is null)
                {
                    state.WakeAt = long.MaxValue;
                    Monitor.Wait(state);
                    continue;
                }
                long remaining = state.Deadline - Stopwatch.GetTimestamp();
                if (remaining > 0)
                {
                    long generation = state.Generation;
                    int ms = (int)Math.Min(int.MaxValue, Math.Max(1, remaining * 1000 / Stopwatch.Frequency));
                    state.WakeAt = state.Deadline;
                    Monitor.Wait(state, ms);
                    state.WakeAt = long.MaxValue;
                    if (generation != state.Generation)
                        continue;
                    if (state.Deadline - Stopwatch.GetTimestamp() > 0)
                        continue;
                }
                Kick(state);
            }
        }
    }

    // Its own frame, so that no local of the long-lived loop keeps the last vCPU (and with it the VM and its RAM)
    // reachable after its machine was dropped.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Kick(State state)
    {
        var target = state.Target;
        state.Target = null;
        state.Kicks++;
        target?.RequestStop();
    }

    // Everything the background thread needs; guarded by locking on the instance itself.
    private sealed class State
    {
        public Vcpu? Target;
        public long Deadline;
        public long Generation;
        public long WakeAt = long.MaxValue;
        public long Kicks;
        public bool Disposed;

        public void Stop()
        {
            lock (this)
            {
                Disposed = true;
                Target = null;
                Monitor.PulseAll(this);
            }
        }
    }
}
