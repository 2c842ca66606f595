namespace KvmLab.Kvm;

/// <summary>
/// Which kernel module implements this host's KVM. The same ioctls behave differently in a few documented places
/// (where RIP points at a port-I/O exit, int3 and data watchpoints, what the instruction emulator completes);
/// <see cref="KvmBehaviour"/> measures those places instead of assuming them.
/// </summary>
public enum KvmBackend
{
    /// <summary>No known vendor module is loaded (or several are): nothing is assumed, everything is probed.</summary>
    Unknown,

    /// <summary>kvm_intel: hardware virtualization with Intel VT-x (VMX), EPT for guest memory.</summary>
    Vmx,

    /// <summary>kvm_amd: hardware virtualization with AMD-V (SVM), NPT for guest memory.</summary>
    Svm,

    /// <summary>
    /// kvm_pvm: a software KVM backend that runs guests with shadow page tables and no VT-x/AMD-V, used when the
    /// host is itself a virtual machine without nested virtualization.
    /// </summary>
    Pvm,
}

/// <summary>Detects the <see cref="KvmBackend"/> of this host.</summary>
public static class KvmBackends
{
    private static readonly (string Module, KvmBackend Backend)[] VendorModules =
    [
        ("kvm_intel", KvmBackend.Vmx),
        ("kvm_amd", KvmBackend.Svm),
        ("kvm_pvm", KvmBackend.Pvm),
    ];

    private static KvmBackend? _current;

    /// <summary>
    /// The backend behind /dev/kvm: the one KVM vendor module that is loaded, read from /sys/module (modules and
    /// built-ins alike appear there) or, failing that, /proc/modules. <see cref="KvmBackend.Unknown"/> when none or
    /// more than one is loaded. Detected once per process.
    /// </summary>
    public static KvmBackend Current => _current ??= Detect(LoadedVendorModules());

    /// <summary>The KVM vendor modules loaded on this host (kvm_intel, kvm_amd, kvm_pvm), possibly none.</summary>
    public static IReadOnlyList<string> LoadedVendorModules()
    {
        var found = VendorModules.Select(v => v.Module).Where(m => Directory.Exists($"/sys/module/{m}")).ToList();
        if (found.Count == 0 && File.Exists("/proc/modules"))
        {
            var vendor = VendorModules.Select(v => v.Module).ToHashSet();
            found = File.ReadLines("/proc/modules").Select(l => l.Split(' ')[0]).Where(vendor.Contains).ToList();
        }
        return found;
    }

    /// <summary>The backend the loaded <paramref name="modules"/> imply (one vendor module, else unknown).</summary>
    public static KvmBackend Detect(IReadOnlyList<string> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var backends = VendorModules.Where(v => modules.Contains(v.Module)).Select(v => v.Backend).Distinct().ToList();
        return backends.Count == 1 ? backends[0] : KvmBackend.Unknown;
    }

    /// <summary>The vendor module's name for <paramref name="backend"/> (kvm_intel, kvm_amd, kvm_pvm), or "unknown".</summary>
    public static string ModuleName(this KvmBackend backend) =>
        VendorModules.FirstOrDefault(v => v.Backend == backend).Module ?? "unknown";

    /// <summary>True for the hardware backends (VMX, SVM), whose exit semantics KVM's x86 code defines.</summary>
    public static bool IsHardware(this KvmBackend backend) => backend is KvmBackend.Vmx or KvmBackend.Svm;
}
