using System.Diagnostics;
using System.Text;

namespace KvmLab.Cli;

/// <summary>
/// The guest's serial output echoed to a terminal, sharing it with a one-line progress display ("12,345 exits,
/// 1.5 s") that appears once a run takes longer than a second. The progress line is drawn only when the guest's
/// own output stands at the start of a line, and erased before the guest writes again, so the two never mix.
/// </summary>
internal sealed class ProgressLine : TextWriter
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(200);

    private readonly TextWriter _terminal;
    private readonly Func<long> _exits;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private bool _atLineStart = true;
    private bool _shown;

    /// <summary>Starts the display on <paramref name="terminal"/>, reading the count from <paramref name="exits"/>.</summary>
    public ProgressLine(TextWriter terminal, Func<long> exits)
    {
        _terminal = terminal;
        _exits = exits;
        _timer = new Timer(_ => Draw(), null, Delay, Period);
    }

    /// <inheritdoc />
    public override Encoding Encoding => _terminal.Encoding;

    /// <inheritdoc />
    public override void Write(char value)
    {
        lock (_lock)
        {
            Erase();
            _terminal.Write(value);
            _atLineStart = value == '\n';
            _terminal.Flush();
        }
    }

    /// <inheritdoc />
    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        lock (_lock)
        {
            Erase();
            _terminal.Write(value);
            _atLineStart = value[^1] == '\n';
            _terminal.Flush();
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer.Dispose();
            lock (_lock)
            {
                Erase();
                if (!_atLineStart) _terminal.WriteLine();
                _terminal.Flush();
            }
        }
        base.Dispose(disposing);
    }

    private void Draw()
    {
        lock (_lock)
        {
            if (!_atLineStart) return;
            _terminal.Write($"\r\u001b[2K\u001b[2m[kvmlab] {_exits():N0} exits, {_clock.Elapsed.TotalSeconds:F1} s\u001b[0m");
            _terminal.Flush();
            _shown = true;
        }
    }

    private void Erase()
    {
        if (!_shown) return;
        _terminal.Write("\r\u001b[2K");
        _shown = false;
    }
}
