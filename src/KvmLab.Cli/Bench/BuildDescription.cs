using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace KvmLab.Cli.Bench;

/// <summary>
/// How a kvmlab assembly was compiled. Startup time depends on ReadyToRun, and a Debug build runs the exit loop
/// without JIT optimizations, so every figure says which build produced it.
/// </summary>
internal static class BuildDescription
{
    /// <summary>"Release, ReadyToRun", "Debug, IL only (JIT at startup)" and the like, read from the assembly file.</summary>
    public static string Of(string dll)
    {
        using var pe = new PEReader(File.OpenRead(dll));
        var readyToRun = pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
        var metadata = pe.GetMetadataReader();
        var debug = metadata.GetAssemblyDefinition().GetCustomAttributes()
            .Select(h => metadata.GetCustomAttribute(h))
            .Any(a => a.Constructor.Kind == HandleKind.MemberReference
                && metadata.GetMemberReference((MemberReferenceHandle)a.Constructor).Parent is { Kind: HandleKind.TypeReference } parent
                && metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)parent).Name) == "DebuggableAttribute"
                && IsJitOptimizerDisabled(metadata.GetBlobReader(a.Value)));
        return (debug ? "Debug" : "Release") + (readyToRun ? ", ReadyToRun" : ", IL only (JIT at startup)");
    }

    // DebuggableAttribute(DebuggingModes): bit 0x100 of the modes is DisableOptimizations.
    private static bool IsJitOptimizerDisabled(BlobReader blob)
    {
        blob.ReadUInt16();
        return blob.RemainingBytes >= 4 && (blob.ReadInt32() & 0x100) != 0;
    }

    /// <summary>True when <paramref name="dll"/> was compiled without optimizations.</summary>
    public static bool IsDebug(string dll) => Of(dll).StartsWith("Debug", StringComparison.Ordinal);
}
