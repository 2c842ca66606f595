namespace KvmLab.Cli;

/// <summary>
/// Parsed command-line arguments of one sub-command: positionals, <c>--name value</c> options and <c>--flag</c>s.
/// Every option a command reads must be declared, so a mistyped option is an error that names the known ones.
/// </summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = new();

    private Arguments() { }

    /// <summary>Positional arguments in order.</summary>
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>Parses <paramref name="args"/> against the flags and valued options a command accepts.</summary>
    /// <exception cref="UsageException">An unknown option or a missing value.</exception>
    public static Arguments Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> flags, IReadOnlyCollection<string> valued, bool stopAtFirstPositional = false)
    {
        var a = new Arguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (stopAtFirstPositional && a._positionals.Count > 0)
            {
                a._positionals.Add(arg);
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                a._positionals.Add(arg);
                continue;
            }
            var eq = arg.IndexOf('=');
            var name = eq > 0 ? arg[2..eq] : arg[2..];
            if (flags.Contains(name))
            {
                a._options[name] = null;
            }
            else if (valued.Contains(name))
            {
                var value = eq > 0 ? arg[(eq + 1)..] : i + 1 < args.Count ? args[++i] : throw new UsageException($"option --{name} needs a value");
                a._options[name] = value;
            }
            else
            {
                var known = flags.Concat(valued).Select(o => "--" + o).OrderBy(o => o, StringComparer.Ordinal);
                throw new UsageException($"unknown option '{arg}'; this command accepts: {string.Join(", ", known)}");
            }
        }
        return a;
    }

    /// <summary>True when the flag was given.</summary>
    public bool Has(string name) => _options.ContainsKey(name);

    /// <summary>The option's value, or null.</summary>
    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;

    /// <summary>The option as a number (decimal or 0x-hex), or <paramref name="fallback"/>.</summary>
    public ulong GetNumber(string name, ulong fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return TryParseNumber(v, out var n) ? n : throw new UsageException($"--{name} expects a number (decimal, or hex with 0x), got '{v}'");
    }

    /// <summary>The option as a duration ("500ms", "2s", "1.5s", "1m"), or <paramref name="fallback"/>.</summary>
    public TimeSpan GetDuration(string name, TimeSpan fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return TryParseDuration(v, out var d) ? d : throw new UsageException($"--{name} expects a duration such as 500ms, 2s or 1m, got '{v}'");
    }

    /// <summary>Parses decimal or 0x-prefixed hex.</summary>
    public static bool TryParseNumber(string s, out ulong value) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(s.AsSpan(2), System.Globalization.NumberStyles.HexNumber, null, out value)
            : ulong.TryParse(s, out value);

    /// <summary>Parses "250ms", "2s", "1.5s", "3m" or a bare number of seconds.</summary>
    public static bool TryParseDuration(string s, out TimeSpan value)
    {
        value = default;
        var (number, unit) = s.EndsWith("ms", StringComparison.Ordinal) ? (s[..^2], 1.0)
            : s.EndsWith('s') ? (s[..^1], 1000.0)
            : s.EndsWith('m') ? (s[..^1], 60_000.0)
            : (s, 1000.0);
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 0) return false;
        value = TimeSpan.FromMilliseconds(n * unit);
        return true;
    }
}

/// <summary>A command-line mistake: printed with the command's usage, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
