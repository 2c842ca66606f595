using KvmLab.Qemu;
using Xunit;
using Xunit.Sdk;

namespace KvmLab.Testing;

/// <summary>
/// A fact that runs the installed qemu-system-x86_64 (the reference implementation), by default under
/// <c>-accel kvm</c>: it needs /dev/kvm like a KVM test and carries the same trait. Skipped where QEMU is missing,
/// and FAILS there when KVMLAB_REQUIRE_QEMU=1 (CI sets it), so QEMU tests never pass by skipping.
/// </summary>
[TraitDiscoverer(NeedsKvmTraitDiscoverer.TypeName, NeedsKvmTraitDiscoverer.AssemblyName)]
public sealed class QemuFactAttribute : FactAttribute, ITraitAttribute
{
    public QemuFactAttribute() => Skip = QemuAvailability.SkipReason(needsKvm: false);
}

/// <summary>A theory that needs QEMU; same rules as <see cref="QemuFactAttribute"/>.</summary>
[TraitDiscoverer(NeedsKvmTraitDiscoverer.TypeName, NeedsKvmTraitDiscoverer.AssemblyName)]
public sealed class QemuTheoryAttribute : TheoryAttribute, ITraitAttribute
{
    public QemuTheoryAttribute() => Skip = QemuAvailability.SkipReason(needsKvm: false);
}

/// <summary>A fact that runs a guest on KvmLab (needs /dev/kvm) and under QEMU: the rules of both apply.</summary>
[TraitDiscoverer(NeedsKvmTraitDiscoverer.TypeName, NeedsKvmTraitDiscoverer.AssemblyName)]
public sealed class CompareFactAttribute : FactAttribute, ITraitAttribute
{
    public CompareFactAttribute() => Skip = QemuAvailability.SkipReason(needsKvm: true);
}

/// <summary>A theory with the rules of <see cref="CompareFactAttribute"/>.</summary>
[TraitDiscoverer(NeedsKvmTraitDiscoverer.TypeName, NeedsKvmTraitDiscoverer.AssemblyName)]
public sealed class CompareTheoryAttribute : TheoryAttribute, ITraitAttribute
{
    public CompareTheoryAttribute() => Skip = QemuAvailability.SkipReason(needsKvm: true);
}

/// <summary>Whether qemu-system-x86_64 is installed, and whether the environment demands it.</summary>
public static class QemuAvailability
{
    public static bool Required => Environment.GetEnvironmentVariable("KVMLAB_REQUIRE_QEMU") == "1";

    public static bool IsInstalled { get; } = QemuRunner.TryFindQemu() is not null;

    /// <summary>Why such a test must be skipped here, or null when it runs (possibly to fail, when required).</summary>
    public static string? SkipReason(bool needsKvm)
    {
        if (needsKvm && !KvmAvailability.IsUsable && !KvmAvailability.Required)
            return $"/dev/kvm is not usable here ({KvmAvailability.Reason}); set KVMLAB_REQUIRE_KVM=1 to make this a failure.";
        if (!IsInstalled && !Required)
            return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86); set KVMLAB_REQUIRE_QEMU=1 to make this a failure.";
        return null;
    }
}
