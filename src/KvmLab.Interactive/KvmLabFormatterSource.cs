namespace KvmLab.Interactive;

/// <summary>
/// The formatter source KvmLab types name with their (convention-matched) TypeFormatterSource attribute: the
/// notebook formatter calls it the first time it displays a trace, an exit, a statistics row or a chart, which
/// registers all KvmLab formatters after a plain <c>#r "KvmLab.Interactive.dll"</c>.
/// </summary>
public sealed class KvmLabFormatterSource
{
    /// <summary>
    /// Registers the formatters and returns them in the shape the convention requires (MimeType, Type and
    /// Format(object, TextWriter)), so the very display that triggered the lookup already uses them.
    /// </summary>
    public IEnumerable<object> CreateTypeFormatters()
    {
        KvmLabFormatters.Register();
        return KvmLabFormatters.Create().Select(f => new ConventionFormatter(f)).ToList();
    }

    /// <summary>A formatter in the convention's shape.</summary>
    public sealed class ConventionFormatter
    {
        private readonly KvmLabFormatter _inner;

        internal ConventionFormatter(KvmLabFormatter inner) => _inner = inner;

        /// <summary>The MIME type written.</summary>
        public string MimeType => _inner.MimeType;

        /// <summary>The type displayed.</summary>
        public Type Type => _inner.Type;

        /// <summary>Writes the instance.</summary>
        public bool Format(object instance, TextWriter writer) => _inner.Write(instance, writer);
    }
}
