using System.Runtime.InteropServices;

namespace KvmLab.Kvm.Interop;

/// <summary>Owns one file descriptor (/dev/kvm, a VM, a vCPU or an eventfd); closing it is the release.</summary>
internal sealed class KvmFileDescriptor : SafeHandle
{
    public KvmFileDescriptor() : base(-1, ownsHandle: true)
    {
    }

    public KvmFileDescriptor(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    /// <summary>The raw number, for log lines and tests; calls go through <see cref="Sys"/>, which holds a reference.</summary>
    public int Number => (int)handle;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
