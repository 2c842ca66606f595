using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary>Owns one file descriptor (/dev/kvm, a VM, a vCPU or an eventfd); closing it is the release.</summary>
internal sealed class KvmFileDescriptor : SafeHandle
{
    private readonly List<SafeHandle> _heldUntilClosed = new();

    public KvmFileDescriptor() : base(-1, ownsHandle: true)
    {
    }

    public KvmFileDescriptor(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    /// <summary>The raw number, for log lines and tests; calls go through <see cref="Sys"/>, which holds a reference.</summary>
    public int Number => (int)handle;

    /// <summary>
    /// Keeps <paramref name="dependent"/> open (holds a reference on it) until this descriptor is closed or
    /// <see cref="Release"/> is called: guest RAM in a VM's memory slot must stay mapped as long as the VM exists,
    /// whether the VM is disposed or left to its finalizer.
    /// </summary>
    public void HoldUntilClosed(SafeHandle dependent)
    {
        bool added = false;
        dependent.DangerousAddRef(ref added);
        lock (_heldUntilClosed)
            _heldUntilClosed.Add(dependent);
    }

    /// <summary>Drops the reference <see cref="HoldUntilClosed"/> took (the slot was removed).</summary>
    public void Release(SafeHandle dependent)
    {
        lock (_heldUntilClosed)
        {
            if (!_heldUntilClosed.Remove(dependent))
                return;
        }
        dependent.DangerousRelease();
    }

    protected override bool ReleaseHandle()
    {
        bool closed = Libc.close((int)handle) == 0;
        // Only now, with the VM gone from the kernel, may the memory its slots pointed at be unmapped.
        lock (_heldUntilClosed)
        {
            foreach (var dependent in _heldUntilClosed)
                dependent.DangerousRelease();
            _heldUntilClosed.Clear();
        }
        return closed;
    }
}
