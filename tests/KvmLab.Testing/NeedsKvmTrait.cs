using Xunit.Abstractions;
using Xunit.Sdk;

namespace KvmLab.Testing;

/// <summary>
/// Gives every test whose attribute needs /dev/kvm the trait <c>Category=Kvm</c>, so that a test run can take exactly
/// those (<c>--filter Category=Kvm</c>, e.g. inside tools/nested-kvm) or exactly the others
/// (<c>--filter Category!=Kvm</c>) without skipping anything.
/// </summary>
public sealed class NeedsKvmTraitDiscoverer : ITraitDiscoverer
{
    /// <summary>The trait name.</summary>
    public const string Name = "Category";

    /// <summary>The trait value of tests that need /dev/kvm.</summary>
    public const string Value = "Kvm";

    /// <summary>The discoverer's type name, for <see cref="TraitDiscovererAttribute"/>.</summary>
    public const string TypeName = "KvmLab.Testing.NeedsKvmTraitDiscoverer";

    /// <summary>The discoverer's assembly, for <see cref="TraitDiscovererAttribute"/>.</summary>
    public const string AssemblyName = "KvmLab.Testing";

    /// <inheritdoc />
    public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
    {
        yield return new KeyValuePair<string, string>(Name, Value);
    }
}
