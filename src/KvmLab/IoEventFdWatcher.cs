using KvmLab.Kvm;

namespace KvmLab;

/// <summary>
/// The thread that waits on devices' ioeventfds, as QEMU's main loop (or an iothread) waits on a virtqueue's host
/// notifier: when KVM completes a notify write in the kernel and signals the eventfd, the watcher drains the counter
/// and kicks the vCPU out of KVM_RUN, so that the run loop, on its own thread (device models are not thread-safe), hands
/// the notification to the device before the next KVM_RUN (QEMU: virtio_queue_host_notifier_read).
/// </summary>
internal sealed class IoEventFdWatcher : IDisposable
{
    private readonly Vcpu _vcpu;
    private readonly EventFd _wake = new();
    private readonly Thread _thread;
    private volatile Watched[] _watched = [];
    private volatile bool _disposed;
    private int _pending;

    /// <summary>One eventfd and what to do, on the run loop's thread, with the signals it received.</summary>
    internal sealed class Watched(EventFd eventFd, Action<ulong> fired)
    {
        internal long Count;

        public EventFd EventFd { get; } = eventFd;

        public Action<ulong> Fired { get; } = fired;
    }

    public IoEventFdWatcher(Vcpu vcpu)
    {
        _vcpu = vcpu;
        _thread = new Thread(Loop) { IsBackground = true, Name = "kvmlab ioeventfd" };
        _thread.Start();
    }

    /// <summary>Whether signals wait for <see cref="Deliver"/>.</summary>
    public bool Pending => Volatile.Read(ref _pending) != 0;

    /// <summary>Signals received by the watcher so far.</summary>
    public long Signals => Interlocked.Read(ref _signals);

    private long _signals;

    /// <summary>Replaces the set of watched eventfds.</summary>
    public void Watch(IReadOnlyList<Watched> watched)
    {
        _watched = watched.ToArray();
        _wake.Signal();
    }

    /// <summary>Runs the handlers of every eventfd that fired since the last call. Call on the run loop's thread.</summary>
    public void Deliver()
    {
        if (Interlocked.Exchange(ref _pending, 0) == 0) return;
        foreach (var w in _watched)
        {
            var count = Interlocked.Exchange(ref w.Count, 0);
            if (count > 0) w.Fired((ulong)count);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _wake.Signal();
        _thread.Join();
        _wake.Dispose();
    }

    private void Loop()
    {
        while (!_disposed)
        {
            var watched = _watched;
            var fds = new List<EventFd>(watched.Length + 1) { _wake };
            fds.AddRange(watched.Select(w => w.EventFd));
            IReadOnlyList<int> ready;
            try
            {
                ready = EventFd.WaitAny(fds, -1);
            }
            catch (ObjectDisposedException)
            {
                // The machine replaced the set and closed an old eventfd; take the new set.
                Thread.Yield();
                continue;
            }

            var fired = false;
            foreach (var i in ready)
            {
                if (i == 0)
                {
                    _wake.ReadCounter();
                    continue;
                }

                try
                {
                    var count = watched[i - 1].EventFd.ReadCounter();
                    if (count == 0) continue;
                    Interlocked.Add(ref watched[i - 1].Count, (long)count);
                    Interlocked.Add(ref _signals, (long)count);
                    fired = true;
                }
                catch (ObjectDisposedException)
                {
                }
            }

            if (fired)
            {
                Volatile.Write(ref _pending, 1);
                _vcpu.RequestStop();
            }
        }
    }
}
