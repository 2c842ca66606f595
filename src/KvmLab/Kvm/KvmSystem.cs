using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// The KVM subsystem: an open <c>/dev/kvm</c>. It answers capability questions and creates VMs. Disposing it
/// closes /dev/kvm; VMs created from it stay usable (they hold their own descriptors).
/// </summary>
internal sealed unsafe class KvmSystem : IDisposable
{
    /// <summary>The call name used in errors from opening the device (picked up by the hints).</summary>
    internal const string DevicePathCall = "open /dev/kvm";

    private readonly KvmFileDescriptor _fd;
    // What KVM_GET_SUPPORTED_CPUID reports depends on the host CPU and the loaded KVM module only, not on the /dev/kvm
    // descriptor: one query serves every machine of the process (it cost ~1 ms of each machine's creation on kvm_pvm).
    private static CpuidEntry[]? _supportedCpuid;

    /// <summary>Opens /dev/kvm read-write and checks KVM_GET_API_VERSION is 12.</summary>
    /// <exception cref="KvmException">/dev/kvm is missing, not accessible, or speaks another API version.</exception>
    public KvmSystem() : this("/dev/kvm")
    {
    }

    /// <summary>Opens a KVM device node at <paramref name="path"/> (normally /dev/kvm) and checks its API version.</summary>
    public KvmSystem(string path)
    {
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
            throw KvmException.FromLastError(DevicePathCall);
        _fd = new KvmFileDescriptor(fd);
        ApiVersion = Sys.Ioctl(_fd, KvmIoctls.KVM_GET_API_VERSION, 0, nameof(KvmIoctls.KVM_GET_API_VERSION));
        if (ApiVersion != KvmIoctls.KVM_API_VERSION)
        {
            _fd.Dispose();
            throw new NotSupportedException(
                $"KVM_GET_API_VERSION returned {ApiVersion}; KvmLab speaks API version {KvmIoctls.KVM_API_VERSION}.");
        }
    }

    /// <summary>Which kernel module serves this KVM (see <see cref="KvmBackends.Current"/> for how it is detected).</summary>
    public KvmBackend Backend => KvmBackends.Current;

    /// <summary>This KVM's measured behaviour where backends differ (probed once per process; <see cref="KvmBehaviour"/>).</summary>
    public KvmBehaviour Behaviour => KvmBehaviour.Current;

    /// <summary>The answer of KVM_GET_API_VERSION (always 12 once constructed).</summary>
    public int ApiVersion { get; }

    /// <summary>Size of the per-vCPU mapping (kvm_run, the PIO data page, the coalesced ring). Wraps KVM_GET_VCPU_MMAP_SIZE.</summary>
    public int VcpuMmapSize =>
        Sys.Ioctl(Fd, KvmIoctls.KVM_GET_VCPU_MMAP_SIZE, 0, nameof(KvmIoctls.KVM_GET_VCPU_MMAP_SIZE));

    internal KvmFileDescriptor Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
            return _fd;
        }
    }

    /// <summary>
    /// Asks whether (and how much of) a capability is present: 0 = absent, otherwise 1 or a count / offset as the
    /// capability defines. Wraps KVM_CHECK_EXTENSION on /dev/kvm.
    /// </summary>
    public int CheckExtension(KvmCapability capability) =>
        Sys.Ioctl(Fd, KvmIoctls.KVM_CHECK_EXTENSION, (nint)capability, nameof(KvmIoctls.KVM_CHECK_EXTENSION));

    /// <summary>
    /// The CPUID leaves this KVM can present to a guest (the host's, filtered). Asked once per process and cached.
    /// Wraps KVM_GET_SUPPORTED_CPUID, growing the buffer on E2BIG.
    /// </summary>
    public IReadOnlyList<CpuidEntry> GetSupportedCpuid() => _supportedCpuid ??= QuerySupportedCpuid();

    /// <summary>Creates an empty VM (no memory, no vCPUs). Wraps KVM_CREATE_VM (machine type 0).</summary>
    public Vm CreateVm()
    {
        int fd = Sys.Ioctl(Fd, KvmIoctls.KVM_CREATE_VM, 0, nameof(KvmIoctls.KVM_CREATE_VM));
        return new Vm(this, new KvmFileDescriptor(fd));
    }

    /// <summary>Closes /dev/kvm.</summary>
    public void Dispose() => _fd.Dispose();

    private CpuidEntry[] QuerySupportedCpuid()
    {
        // Room for the kernel's KVM_MAX_CPUID_ENTRIES (256 in current kernels): one call instead of an E2BIG round trip first.
        for (int capacity = 256; ; capacity *= 2)
        {
            int bytes = sizeof(kvm_cpuid2) + capacity * sizeof(kvm_cpuid_entry2);
            byte[] buffer = new byte[bytes];
            fixed (byte* p = buffer)
            {
                ((kvm_cpuid2*)p)->nent = (uint)capacity;
                int result = Sys.IoctlRaw(Fd, KvmIoctls.KVM_GET_SUPPORTED_CPUID, (nint)p, out int errno);
                if (result < 0 && errno == Libc.E2BIG && capacity < 4096)
                    continue;
                if (result < 0)
                    throw KvmException.FromErrno(errno, nameof(KvmIoctls.KVM_GET_SUPPORTED_CPUID));
                var header = (kvm_cpuid2*)p;
                var entries = (kvm_cpuid_entry2*)(p + sizeof(kvm_cpuid2));
                var list = new CpuidEntry[header->nent];
                for (int i = 0; i < list.Length; i++)
                {
                    var e = entries[i];
                    list[i] = new CpuidEntry(e.function, e.index, e.flags, e.eax, e.ebx, e.ecx, e.edx);
                }
                return list;
            }
        }
    }
}
