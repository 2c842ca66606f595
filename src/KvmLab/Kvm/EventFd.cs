using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// A non-blocking Linux eventfd. KVM adds 1 to its counter for each guest write matching an ioeventfd
/// registration (<see cref="Vm.RegisterIoEventFd"/>), without an exit to userspace.
/// </summary>
internal sealed unsafe class EventFd : IDisposable
{
    private readonly KvmFileDescriptor _fd;

    /// <summary>Creates an eventfd with counter 0 (eventfd2 with EFD_CLOEXEC | EFD_NONBLOCK).</summary>
    public EventFd()
    {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (fd < 0)
            throw KvmException.FromLastError("eventfd");
        _fd = new KvmFileDescriptor(fd);
    }

    internal KvmFileDescriptor Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
            return _fd;
        }
    }

    /// <summary>The ioeventfd registration this eventfd is attached to, if any.</summary>
    internal IoEventFdRegistration? Registration { get; set; }

    /// <summary>Reads and resets the counter: the number of signals since the last read (0 if none).</summary>
    public ulong ReadCounter()
    {
        ulong value = 0;
        bool added = false;
        try
        {
            Fd.DangerousAddRef(ref added);
            if (Libc.read(_fd.Number, &value, sizeof(ulong)) == sizeof(ulong))
                return value;
            var error = KvmException.FromLastError("read eventfd");
            return error.Errno == Libc.EAGAIN ? 0UL : throw error;
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    /// <summary>Adds 1 to the counter, as KVM does for a matching guest write (wakes a poll on the eventfd).</summary>
    public void Signal()
    {
        ulong one = 1;
        bool added = false;
        try
        {
            Fd.DangerousAddRef(ref added);
            if (Libc.write(_fd.Number, &one, sizeof(ulong)) != sizeof(ulong))
                throw KvmException.FromLastError("write eventfd");
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    /// <summary>
    /// Waits until one of <paramref name="eventFds"/> has a non-zero counter or <paramref name="timeout"/> passes
    /// (poll(2) for POLLIN; -1 waits for ever). Returns the indexes of the readable ones, empty on timeout.
    /// </summary>
    public static IReadOnlyList<int> WaitAny(IReadOnlyList<EventFd> eventFds, int timeout)
    {
        ArgumentNullException.ThrowIfNull(eventFds);
        var fds = new Libc.pollfd_t[eventFds.Count];
        for (int i = 0; i < fds.Length; i++)
            fds[i] = new Libc.pollfd_t { fd = eventFds[i].Fd.Number, events = Libc.POLLIN };
        int n;
        fixed (Libc.pollfd_t* p = fds)
        {
            do
            {
                n = Libc.poll(p, (nuint)fds.Length, timeout);
            }
            while (n < 0 && System.Runtime.InteropServices.Marshal.GetLastSystemError() == Libc.EINTR);
        }
        if (n < 0)
            throw KvmException.FromLastError("poll eventfd");
        var ready = new List<int>();
        for (int i = 0; i < fds.Length; i++)
            if ((fds[i].revents & Libc.POLLIN) != 0)
                ready.Add(i);
        return ready;
    }

    /// <summary>Closes the eventfd. Unregister it first (<see cref="Vm.UnregisterIoEventFd"/>).</summary>
    public void Dispose() => _fd.Dispose();
}

/// <summary>What an ioeventfd was registered with; unregistering must repeat it exactly.</summary>
internal sealed record IoEventFdRegistration(ulong Address, uint Length, bool IsPio, ulong? DataMatch);
