using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary>
/// The ioctl calls of the KVM layer. Each holds a reference on the descriptor for the duration of the call, so a
/// concurrent Dispose cannot close (and the kernel cannot reuse) the fd mid-call, and turns a failure into a
/// <see cref="KvmException"/> naming the ioctl.
/// </summary>
internal static unsafe class Sys
{
    /// <summary>Issues <paramref name="request"/> with a scalar or pointer argument; returns the non-negative result.</summary>
    public static int Ioctl(KvmFileDescriptor fd, nuint request, nint arg, string name)
    {
        int result = IoctlRaw(fd, request, arg, out int errno);
        if (result < 0)
            throw KvmException.FromErrno(errno, name);
        return result;
    }

    /// <summary>Issues <paramref name="request"/> with a pointer to <paramref name="value"/>.</summary>
    public static int Ioctl<T>(KvmFileDescriptor fd, nuint request, ref T value, string name) where T : unmanaged
    {
        fixed (T* p = &value)
            return Ioctl(fd, request, (nint)p, name);
    }

    /// <summary>Like <see cref="Ioctl(KvmFileDescriptor, nuint, nint, string)"/> but reports errno instead of throwing.</summary>
    public static int IoctlRaw(KvmFileDescriptor fd, nuint request, nint arg, out int errno)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            int result = Libc.ioctl(fd.Number, request, arg);
            errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            return result;
        }
        finally
        {
            if (added)
                fd.DangerousRelease();
        }
    }
}
