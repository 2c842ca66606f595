using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive;

/// <summary>
/// The formatter source of types declared in this assembly (which can name .NET Interactive's own attribute, so the
/// interface form applies rather than the by-name convention the core's types use): their first display registers
/// every KvmLab formatter.
/// </summary>
public sealed class KvmLabTypeFormatterSource : ITypeFormatterSource
{
    /// <summary>Registers the KvmLab formatters and returns them.</summary>
    public IEnumerable<ITypeFormatter> CreateTypeFormatters()
    {
        KvmLabFormatters.Register();
        return KvmLabFormatters.Create();
    }
}
