using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// A non-blocking Linux eventfd. KVM adds 1 to its counter for each guest write matching an ioeventfd
/// registration (<see cref="Vm.RegisterIoEventFd"/>), without an exit to userspace.
/// </summary>
public sealed unsafe class EventFd : IDisposable
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

    /// <summary>Closes the eventfd. Unregister it first (<see cref="Vm.UnregisterIoEventFd"/>).</summary>
    public void Dispose() => _fd.Dispose();
}

/// <summary>What an ioeventfd was registered with; unregistering must repeat it exactly.</summary>
internal sealed record IoEventFdRegistration(ulong Address, uint Length, bool IsPio, ulong? DataMatch);
