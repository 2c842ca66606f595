using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary>The libc entry points the KVM layer calls. Names and argument orders follow the C prototypes.</summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int O_RDWR = 2;
    public const int O_CLOEXEC = 0x80000;

    public const int PROT_NONE = 0;
    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int PROT_EXEC = 4;
    public const int MAP_SHARED = 0x01;
    public const int MAP_PRIVATE = 0x02;
    public const int MAP_ANONYMOUS = 0x20;
    public const int MAP_NORESERVE = 0x4000;
    public static readonly nint MAP_FAILED = -1;

    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int ENOSPC = 28;
    public const int EOPNOTSUPP = 95;

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, nint arg);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* arg);

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport(Lib, EntryPoint = "mprotect", SetLastError = true)]
    public static partial int mprotect(nint addr, nuint length, int prot);

    [LibraryImport(Lib, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint write(int fd, void* buf, nuint count);

    /// <summary>POLLIN: data to read (an eventfd's counter is non-zero).</summary>
    public const short POLLIN = 0x1;

    /// <summary><c>struct pollfd</c> (suffixed as sigaction_t is: lower-case type names are reserved).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct pollfd_t
    {
        public int fd;
        public short events;
        public short revents;
    }

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int poll(pollfd_t* fds, nuint nfds, int timeout);

    [LibraryImport(Lib, EntryPoint = "pread64", SetLastError = true)]
    public static partial nint pread(int fd, void* buf, nuint count, long offset);

    [LibraryImport(Lib, EntryPoint = "sigaction", SetLastError = true)]
    public static partial int sigaction(int signum, in sigaction_t act, out sigaction_t oldact);

    [LibraryImport(Lib, EntryPoint = "__libc_current_sigrtmin")]
    public static partial int __libc_current_sigrtmin();

    [LibraryImport(Lib, EntryPoint = "pthread_self")]
    public static partial nuint pthread_self();

    /// <summary>Returns an error number directly (not through errno), as POSIX threads functions do.</summary>
    [LibraryImport(Lib, EntryPoint = "pthread_kill")]
    public static partial int pthread_kill(nuint thread, int sig);

    [LibraryImport(Lib, EntryPoint = "getpagesize")]
    public static partial int getpagesize();

    /// <summary>glibc's x86-64 <c>struct sigaction</c> (152 bytes; the kernel's differs, glibc translates).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 152)]
    public struct sigaction_t
    {
        public nint sa_handler;
        public fixed ulong sa_mask[16];
        public int sa_flags;
        public int pad;
        public nint sa_restorer;
    }
}
