using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive;

/// <summary>
/// Base of every KvmLab notebook formatter: one subclass per displayed type and MIME type, writing HTML unless it
/// says otherwise. Subclasses are found by reflection, so adding a formatter is adding one class to this assembly.
/// </summary>
public abstract class KvmLabFormatter : ITypeFormatter
{
    /// <summary>text/html, or what a subclass overrides it with.</summary>
    public virtual string MimeType => HtmlFormatter.MimeType;

    /// <summary>The type this formatter displays (objects assignable to it are displayed too).</summary>
    public abstract Type Type { get; }

    /// <inheritdoc />
    public bool Format(object instance, FormatContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Write(instance, context.Writer);
    }

    /// <summary>Writes <paramref name="instance"/> in <see cref="MimeType"/>; false when it is not of <see cref="Type"/>.</summary>
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
        WriteValue(value, writer);
        return true;
    }

    /// <summary>Writes <paramref name="value"/> in <see cref="KvmLabFormatter.MimeType"/> (HTML unless overridden).</summary>
    protected abstract void WriteValue(T value, TextWriter writer);
}
