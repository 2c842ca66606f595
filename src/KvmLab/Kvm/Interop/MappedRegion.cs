using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary>
/// Owns one mmap (a vCPU's kvm_run area, guest RAM, the stop handler's code page). Closing a file descriptor does
/// not unmap what was mapped from it, so mappings need their own handle to be released deterministically.
/// </summary>
internal sealed class MappedRegion : SafeHandle
{
    private MappedRegion(nint address, ulong length) : base(Libc.MAP_FAILED, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>Length of the mapping in bytes.</summary>
    public ulong Length { get; }

    /// <summary>Start of the mapping; valid while the handle is open.</summary>
    public nint Address => handle;

    public override bool IsInvalid => handle == Libc.MAP_FAILED || handle == 0;

    /// <summary>Maps <paramref name="length"/> bytes; throws <see cref="KvmException"/> naming <paramref name="what"/>.</summary>
    public static MappedRegion Map(ulong length, int prot, int flags, KvmFileDescriptor? fd, string what)
    {
        bool added = false;
        try
        {
            fd?.DangerousAddRef(ref added);
            int raw = fd is null ? -1 : fd.Number;
            nint address = Libc.mmap(0, (nuint)length, prot, flags, raw, 0);
            if (address == Libc.MAP_FAILED)
                throw KvmException.FromLastError(what);
            return new MappedRegion(address, length);
        }
        finally
        {
            if (added)
                fd!.DangerousRelease();
        }
    }

    protected override bool ReleaseHandle() => Libc.munmap(handle, (nuint)Length) == 0;
}
