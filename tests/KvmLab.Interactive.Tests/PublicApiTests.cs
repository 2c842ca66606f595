using System.Reflection;
using System.Text;

namespace KvmLab.Interactive.Tests;

/// <summary>
/// The public surface of each library, one line per public type and member, held to the reviewed listing in
/// <c>api/ASSEMBLY.txt</c>: a change to what users can call shows up in the diff of that file, in the same change.
/// Regenerate after reviewing with <c>KVMLAB_UPDATE_API=1 dotnet test tests/KvmLab.Interactive.Tests --filter PublicApi</c>.
/// Public is what a notebook, a C# script or a user of the guest library calls; the kvmlab command and tests reach the
/// rest through InternalsVisibleTo. The type counts are also held to a ceiling written here, which regenerating does
/// not raise.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Assemblies() => new() { "KvmLab", "KvmLab.Charts", "KvmLab.Interactive", "KvmLab.Guests" };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Public_surface_matches_the_reviewed_listing(string assemblyName)
    {
        var listing = Listing(Assembly.Load(assemblyName));
        var path = Path.Combine(KvmLab.Testing.Repository.Root, "api", assemblyName + ".txt");
        if (Environment.GetEnvironmentVariable("KVMLAB_UPDATE_API") == "1")
        {
            File.WriteAllText(path, listing);
            return;
        }

        Assert.True(File.Exists(path), $"{path} is missing: generate it with KVMLAB_UPDATE_API=1 after reviewing the surface");
        var reviewed = File.ReadAllText(path);
        var added = listing.Split('\n').Except(reviewed.Split('\n')).ToList();
        var removed = reviewed.Split('\n').Except(listing.Split('\n')).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            $"the public surface of {assemblyName} changed (review it, then regenerate api/{assemblyName}.txt with KVMLAB_UPDATE_API=1):\n" +
            string.Join("\n", added.Select(a => "  added:   " + a).Concat(removed.Select(r => "  removed: " + r))));
    }

    /// <summary>
    /// How many public types each assembly may have: the reviewed count. Making a type public, or adding one, fails
    /// here until this number is raised in the same change as the listing, so a wider surface is a decision in the diff.
    /// </summary>
    public static TheoryData<string, int> Ceilings() => new()
    {
        { "KvmLab", 123 }, { "KvmLab.Charts", 6 }, { "KvmLab.Interactive", 33 }, { "KvmLab.Guests", 24 },
    };

    [Theory]
    [MemberData(nameof(Ceilings))]
    public void Public_type_count_does_not_exceed_the_listing_or_the_ceiling(string assemblyName, int ceiling)
    {
        var exported = Assembly.Load(assemblyName).GetExportedTypes().Select(TypeName).Order(StringComparer.Ordinal).ToList();
        var path = Path.Combine(KvmLab.Testing.Repository.Root, "api", assemblyName + ".txt");
        var listed = File.ReadAllLines(path).Count(l => l.Length > 0 && !l.StartsWith(' '));
        Assert.True(exported.Count <= listed,
            $"{assemblyName} has {exported.Count} public types, the reviewed api/{assemblyName}.txt lists {listed}: review the new ones and regenerate");
        Assert.True(exported.Count <= ceiling,
            $"{assemblyName} has {exported.Count} public types, more than its ceiling of {ceiling}: public is what a notebook, a script or a " +
            "guest-library user calls; make the new type internal, or raise the ceiling here on purpose:\n  " + string.Join("\n  ", exported));
    }

    /// <summary>Namespaces of the core that only the kvmlab command, the implementation and tests call.</summary>
    public static TheoryData<string> InternalNamespaces() => new() { "KvmLab.Fuzzing", "KvmLab.Devices.Virtio", "KvmLab.Pci.Q35", "KvmLab.Kvm.Interop" };

    [Theory]
    [MemberData(nameof(InternalNamespaces))]
    public void No_public_type_of_the_core_lives_in_an_internal_namespace(string ns)
    {
        var leaked = Assembly.Load("KvmLab").GetExportedTypes().Where(t => t.Namespace == ns).Select(TypeName).ToList();
        Assert.True(leaked.Count == 0, $"public in {ns}, which no notebook, script or guest-library user calls: {string.Join(", ", leaked)}");
    }

    private static string Listing(Assembly assembly)
    {
        var sb = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(TypeName, StringComparer.Ordinal))
        {
            sb.Append(Kind(type)).Append(' ').Append(TypeName(type)).Append('\n');
            const BindingFlags declared = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var members = type.GetMembers(declared)
                .Where(m => m is not (MethodInfo { IsSpecialName: true } or Type) && !(type.IsEnum && m is FieldInfo { IsSpecialName: true }) && !IsCompilerGenerated(m))
                .Select(m => "  " + Member(m))
                .Order(StringComparer.Ordinal);
            foreach (var member in members) sb.Append(member).Append('\n');
        }

        return sb.ToString();
    }

    // Record and enum plumbing the compiler writes (EqualityContract, <Clone>$, Deconstruct is kept: users call it).
    private static bool IsCompilerGenerated(MemberInfo member) =>
        member.Name.Contains('<') || member.Name == "EqualityContract";

    private static string Kind(Type t) =>
        t.IsEnum ? "enum" : t.IsInterface ? "interface" : t.IsValueType ? "struct" : t.IsAbstract && t.IsSealed ? "static class" : typeof(Delegate).IsAssignableFrom(t) ? "delegate" : "class";

    private static string Member(MemberInfo m) => m switch
    {
        ConstructorInfo c => $"{(c.IsStatic ? "static " : "")}.ctor({Parameters(c.GetParameters())})",
        MethodInfo mi => $"{(mi.IsStatic ? "static " : "")}{TypeName(mi.ReturnType)} {mi.Name}{(mi.IsGenericMethod ? "<" + string.Join(",", mi.GetGenericArguments().Select(TypeName)) + ">" : "")}({Parameters(mi.GetParameters())})",
        PropertyInfo p => $"{((p.GetMethod ?? p.SetMethod)!.IsStatic ? "static " : "")}{TypeName(p.PropertyType)} {p.Name} {{{(p.GetMethod?.IsPublic == true ? " get;" : "")}{(p.SetMethod?.IsPublic == true ? (IsInitOnly(p) ? " init;" : " set;") : "")} }}",
        FieldInfo f => $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{TypeName(f.FieldType)} {f.Name}",
        EventInfo e => $"event {TypeName(e.EventHandlerType!)} {e.Name}",
        _ => m.ToString() ?? m.Name,
    };

    private static bool IsInitOnly(PropertyInfo p) =>
        p.SetMethod!.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.Name == "IsExternalInit");

    private static string Parameters(ParameterInfo[] ps) =>
        string.Join(", ", ps.Select(p => (p.IsOut ? "out " : p.ParameterType.IsByRef ? (p.IsIn ? "in " : "ref ") : "") + TypeName(p.ParameterType) +
            (p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : "")));

    private static string TypeName(Type t)
    {
        if (t.IsByRef) return TypeName(t.GetElementType()!);
        if (t.IsArray) return TypeName(t.GetElementType()!) + "[]";
        if (t.IsGenericParameter) return t.Name;
        var name = t.IsNested ? TypeName(t.DeclaringType!) + "." + t.Name : (t.Namespace is { } ns ? ns + "." : "") + t.Name;
        if (!t.IsGenericType) return name;
        var tick = name.IndexOf('`');
        return (tick >= 0 ? name[..tick] : name) + "<" + string.Join(",", t.GetGenericArguments().Select(TypeName)) + ">";
    }
}
