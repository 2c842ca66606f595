using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive;

/// <summary>
/// Base of every KvmLab notebook formatter: one subclass per displayed type, writing HTML. Subclasses are found by
/// reflection, so adding a formatter is adding one class to this assembly.
/// </summary>
public abstract class KvmLabFormatter : ITypeFormatter
{
    /// <summary>Always text/html.</summary>
    public string MimeType => HtmlFormatter.MimeType;

    /// <summary>The type this formatter displays (objects assignable to it are displayed too).</summary>
    public abstract Type Type { get; }

    /// <inheritdoc />
    public bool Format(object instance, FormatContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Write(instance, context.Writer);
    }

    /// <summary>Writes <paramref name="instance"/> as HTML; false when it is not of <see cref="Type"/>.</summary>
    public abstract bool Write(object instance, TextWriter writer);
}

/// <summary>A formatter of <typeparamref name="T"/>.</summary>
public abstract class KvmLabFormatter<T> : KvmLabFormatter
{
    /// <inheritdoc />
    public override Type Type => typeof(T);

    /// <inheritdoc />
    public override bool Write(object instance, TextWriter writer)
    {
        if (instance is not T value) return false;
        WriteHtml(value, writer);
        return true;
    }

    /// <summary>Writes <paramref name="value"/> as HTML.</summary>
    protected abstract void WriteHtml(T value, TextWriter writer);
}
