using KvmLab.Testing;

namespace KvmLab.Guests.Tests.Compare;

/// <summary>
/// A theory that runs a guest on KvmLab (needs /dev/kvm) and under QEMU (needs qemu-system-x86_64). Skipped where
/// either is missing, unless KVMLAB_REQUIRE_KVM=1 or KVMLAB_REQUIRE_QEMU=1 demands it: then it runs and fails.
/// </summary>
public sealed class CompareTheoryAttribute : TheoryAttribute
{
    public CompareTheoryAttribute()
    {
        if (!KvmAvailability.IsUsable && !KvmAvailability.Required)
            Skip = $"/dev/kvm is not usable here ({KvmAvailability.Reason}); set KVMLAB_REQUIRE_KVM=1 to make this a failure.";
        else if (QemuRunner.Executable is null && !QemuRunner.Required)
            Skip = "qemu-system-x86_64 is not on PATH; set KVMLAB_REQUIRE_QEMU=1 to make this a failure.";
    }
}

/// <summary>A fact with the same rules as <see cref="CompareTheoryAttribute"/>.</summary>
public sealed class CompareFactAttribute : FactAttribute
{
    public CompareFactAttribute()
    {
        if (!KvmAvailability.IsUsable && !KvmAvailability.Required)
            Skip = $"/dev/kvm is not usable here ({KvmAvailability.Reason}); set KVMLAB_REQUIRE_KVM=1 to make this a failure.";
        else if (QemuRunner.Executable is null && !QemuRunner.Required)
            Skip = "qemu-system-x86_64 is not on PATH; set KVMLAB_REQUIRE_QEMU=1 to make this a failure.";
    }
}
