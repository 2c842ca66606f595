using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.Loader;

namespace KvmLab.Notebooks;

/// <summary>
/// Names the notebook formatters of a type without the core referencing .NET Interactive: the Interactive formatter
/// looks for an attribute of exactly this name and asks its <see cref="FormatterSourceType"/> for formatters the
/// first time it displays such an object. That is what makes a plain <c>#r "KvmLab.Interactive.dll"</c> enough in a
/// notebook (the stock kernel loads extensions only from NuGet packages).
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = false)]
internal sealed class TypeFormatterSourceAttribute : Attribute
{
    /// <summary>The formatter source every KvmLab type names.</summary>
    public const string KvmLabSource = "KvmLab.Interactive.KvmLabFormatterSource, KvmLab.Interactive";

    private readonly string _typeName;

    public TypeFormatterSourceAttribute(string typeName) => _typeName = typeName;

    /// <summary>The formatter source type, or null when KvmLab.Interactive is not beside this assembly.</summary>
    /// <remarks>Only a notebook kernel asks (by reflection); the natively compiled kvmlab command never does.</remarks>
    public Type? FormatterSourceType
    {
        [RequiresUnreferencedCode("Loads KvmLab.Interactive by name, for notebook kernels only.")]
        [RequiresAssemblyFiles("Looks for KvmLab.Interactive.dll beside KvmLab.dll.")]
        get
        {
            var comma = _typeName.IndexOf(',', StringComparison.Ordinal);
            var assemblyName = _typeName[(comma + 1)..].Trim();
            var assembly = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == assemblyName)
                ?? LoadBeside(assemblyName);
            return assembly?.GetType(_typeName[..comma].Trim(), throwOnError: false);
        }
    }

    [RequiresUnreferencedCode("Loads an assembly from a path.")]
    [RequiresAssemblyFiles("Looks for an assembly file beside KvmLab.dll.")]
    private static Assembly? LoadBeside(string assemblyName)
    {
        var here = typeof(TypeFormatterSourceAttribute).Assembly;
        var path = Path.Combine(Path.GetDirectoryName(here.Location) ?? "", assemblyName + ".dll");
        if (!File.Exists(path)) return null;
        var context = AssemblyLoadContext.GetLoadContext(here) ?? AssemblyLoadContext.Default;
        return context.LoadFromAssemblyPath(path);
    }
}
