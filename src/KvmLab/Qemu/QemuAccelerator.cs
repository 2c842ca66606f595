namespace KvmLab.Qemu;

/// <summary>Which QEMU accelerator runs the guest (<c>-accel</c>).</summary>
public enum QemuAccelerator
{
    /// <summary><c>-accel kvm</c>: the guest runs under KVM and every exit shows up as a kvm_run_exit trace event.</summary>
    Kvm,

    /// <summary><c>-accel tcg</c>: QEMU's own translator; no KVM exits, but the same device accesses.</summary>
    Tcg,
}
