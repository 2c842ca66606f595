using Xunit;
using Xunit.Sdk;

namespace KvmLab.Testing;

/// <summary>
/// A fact that needs a usable /dev/kvm. Without one it is skipped on a developer's machine and
/// FAILS (runs and throws) when KVMLAB_REQUIRE_KVM=1, which CI sets: KVM tests never pass by skipping.
/// </summary>
[TraitDiscoverer(NeedsKvmTraitDiscoverer.TypeName, NeedsKvmTraitDiscoverer.AssemblyName)]
public sealed class KvmFactAttribute : FactAttribute, ITraitAttribute
{
    public KvmFactAttribute()
    {
        if (!KvmAvailability.IsUsable && !KvmAvailability.Required)
            Skip = $"/dev/kvm is not usable here ({KvmAvailability.Reason}); set KVMLAB_REQUIRE_KVM=1 to make this a failure.";
    }
}

/// <summary>A theory that needs /dev/kvm; same rules as <see cref="KvmFactAttribute"/>.</summary>
[TraitDiscoverer(NeedsKvmTraitDiscoverer.TypeName, NeedsKvmTraitDiscoverer.AssemblyName)]
public sealed class KvmTheoryAttribute : TheoryAttribute, ITraitAttribute
{
    public KvmTheoryAttribute()
    {
        if (!KvmAvailability.IsUsable && !KvmAvailability.Required)
            Skip = $"/dev/kvm is not usable here ({KvmAvailability.Reason}); set KVMLAB_REQUIRE_KVM=1 to make this a failure.";
    }
}

/// <summary>Whether this process can open /dev/kvm read-write, and whether the environment demands it.</summary>
public static class KvmAvailability
{
    public static bool Required => Environment.GetEnvironmentVariable("KVMLAB_REQUIRE_KVM") == "1";

    public static string Reason { get; private set; } = "";

    public static bool IsUsable { get; } = Probe();

    private static bool Probe()
    {
        try
        {
            using var f = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e)
        {
            Reason = e.Message;
            return false;
        }
    }
}
