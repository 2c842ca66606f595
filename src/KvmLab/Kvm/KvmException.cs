using System.Runtime.InteropServices;
using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// A host-side failure of the KVM layer: opening /dev/kvm, an ioctl, an mmap or another system call failed. It
/// carries the errno, the name of the call (e.g. <c>KVM_SET_SREGS</c>) and a hint saying what usually causes
/// that errno for that call and how to fix it. Guest behaviour never raises it; it arrives as a <see cref="VcpuExit"/>.
/// </summary>
public sealed class KvmException : Exception
{
    private KvmException(int errno, string call, string hint)
        : base($"{call} failed: {ErrnoName(errno)} ({errno}, {Marshal.GetPInvokeErrorMessage(errno)}). {hint}")
    {
        Errno = errno;
        IoctlName = call;
        Hint = hint;
    }

    /// <summary>The errno the kernel returned (e.g. 9 for EBADF).</summary>
    public int Errno { get; }

    /// <summary>The symbolic errno (e.g. <c>EBADF</c>).</summary>
    public string ErrnoSymbol => ErrnoName(Errno);

    /// <summary>The ioctl (e.g. <c>KVM_RUN</c>) or system call (e.g. <c>open /dev/kvm</c>, <c>mmap kvm_run</c>) that failed.</summary>
    public string IoctlName { get; }

    /// <summary>The likely cause and fix for this errno from this call.</summary>
    public string Hint { get; }

    /// <summary>Builds the exception for the calling thread's last P/Invoke errno.</summary>
    internal static KvmException FromLastError(string call) => FromErrno(Marshal.GetLastPInvokeError(), call);

    /// <summary>The one place an errno becomes an exception: picks the hint for the (errno, call) pair.</summary>
    internal static KvmException FromErrno(int errno, string call) => new(errno, call, HintFor(errno, call));

    private static string HintFor(int errno, string call) => (errno, call) switch
    {
        (Libc.ENOENT or Libc.ENODEV or Libc.ENXIO, KvmSystem.DevicePathCall) =>
            "/dev/kvm does not exist: load the KVM module (sudo modprobe kvm_intel, or kvm_amd on AMD), enable " +
            "virtualization (VT-x / AMD-V, SVM) in the firmware setup, and inside a VM enable nested virtualization.",
        (Libc.EACCES or Libc.EPERM, _) =>
            "Permission denied: add your user to the 'kvm' group (sudo usermod -aG kvm $USER, then log in again) " +
            "or run as root.",
        (Libc.EBADF, _) =>
            "The file descriptor is not open: the Kvm/Vm/Vcpu was disposed (possibly from another thread) or the " +
            "handle was never valid.",
        (Libc.EMFILE or Libc.ENFILE, _) =>
            "Too many open files: dispose VMs and vCPUs you no longer need, or raise the limit (ulimit -n).",
        (Libc.ENOMEM, _) =>
            "The host is out of memory (or of address space / locked-memory allowance): use less guest RAM or fewer VMs.",
        (Libc.ENOTTY, _) =>
            "This kernel's KVM does not implement this ioctl, or it was sent to the wrong kind of descriptor.",
        (Libc.EINVAL, "KVM_SET_SREGS") =>
            "The CPU rejected the special registers: check that CR0.PG has CR0.PE, that EFER.LME with CR0.PG has " +
            "CR4.PAE and EFER.LMA, that CS.L and CS.DB are not both set, that segment types/present bits match their " +
            "use, and that long mode has the LM bit in the guest CPUID (KVM_SET_CPUID2).",
        (Libc.EINVAL, "KVM_SET_USER_MEMORY_REGION") =>
            "The slot was refused: the guest address, size and host address must be page aligned, the range must not " +
            "overlap another slot, and the slot number must be below KVM_CAP_NR_MEMSLOTS.",
        (Libc.EEXIST, "KVM_SET_USER_MEMORY_REGION") =>
            "The range overlaps an existing memory slot.",
        (Libc.EINVAL, "KVM_CREATE_VCPU") =>
            "The vCPU id is at or above KVM_CAP_MAX_VCPUS, or the VM already has its maximum number of vCPUs.",
        (Libc.EEXIST, "KVM_CREATE_VCPU") =>
            "A vCPU with this id already exists in this VM.",
        (Libc.EEXIST, "KVM_CREATE_IRQCHIP" or "KVM_CREATE_PIT2") =>
            "It already exists in this VM (create the irqchip and the PIT once, before the vCPUs).",
        (Libc.EINVAL, "KVM_CREATE_IRQCHIP") =>
            "The in-kernel irqchip must be created before any vCPU.",
        (Libc.ENXIO or Libc.EINVAL, "KVM_IRQ_LINE" or "KVM_SIGNAL_MSI") =>
            "No in-kernel irqchip: call CreateIrqchip before creating vCPUs.",
        (Libc.EINVAL, "KVM_SET_IDENTITY_MAP_ADDR") =>
            "The identity-map address must be set before the first vCPU is created.",
        (Libc.EINVAL, "KVM_IOEVENTFD") =>
            "The ioeventfd was refused: length must be 0, 1, 2, 4 or 8, PIO ranges must fit 16-bit ports, and an " +
            "identical registration must not already exist (or, when unregistering, must exist).",
        (Libc.EEXIST, "KVM_IOEVENTFD") =>
            "An ioeventfd with the same address, length and datamatch is already registered.",
        (Libc.ENOSPC, "KVM_REGISTER_COALESCED_MMIO") =>
            "No more coalesced MMIO zones fit (KVM allows a small fixed number per VM).",
        (Libc.EFAULT, "KVM_RUN") =>
            "KVM could not access guest memory through a slot's host mapping: was the GuestMemory disposed while mapped?",
        (Libc.EINVAL, "KVM_SET_GUEST_DEBUG") =>
            "This KVM rejected the debug control flags (single-step / hardware breakpoints may be unsupported).",
        (Libc.E2BIG, "KVM_GET_SUPPORTED_CPUID") =>
            "The CPUID buffer was too small.",
        _ => $"See Documentation/virt/kvm/api.rst for the errors {call} can return.",
    };

    private static string ErrnoName(int errno) => errno switch
    {
        Libc.EPERM => "EPERM",
        Libc.ENOENT => "ENOENT",
        Libc.EINTR => "EINTR",
        Libc.ENXIO => "ENXIO",
        Libc.E2BIG => "E2BIG",
        Libc.EBADF => "EBADF",
        Libc.EAGAIN => "EAGAIN",
        Libc.ENOMEM => "ENOMEM",
        Libc.EACCES => "EACCES",
        Libc.EFAULT => "EFAULT",
        Libc.EBUSY => "EBUSY",
        Libc.EEXIST => "EEXIST",
        Libc.ENODEV => "ENODEV",
        Libc.EINVAL => "EINVAL",
        Libc.ENFILE => "ENFILE",
        Libc.EMFILE => "EMFILE",
        Libc.ENOTTY => "ENOTTY",
        Libc.ENOSPC => "ENOSPC",
        Libc.EOPNOTSUPP => "EOPNOTSUPP",
        _ => $"errno {errno}",
    };
}
