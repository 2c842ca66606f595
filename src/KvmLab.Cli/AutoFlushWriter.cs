using System.Text;

namespace KvmLab.Cli;

/// <summary>Passes the guest's serial output through and flushes at every write, so a pipe sees it as it is written.</summary>
internal sealed class AutoFlushWriter(TextWriter inner) : TextWriter
{
    /// <inheritdoc />
    public override Encoding Encoding => inner.Encoding;

    /// <inheritdoc />
    public override void Write(char value)
    {
        inner.Write(value);
        inner.Flush();
    }

    /// <inheritdoc />
    public override void Write(string? value)
    {
        inner.Write(value);
        inner.Flush();
    }
}
