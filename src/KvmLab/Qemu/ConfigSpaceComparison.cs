using System.Globalization;
using System.Text;

namespace KvmLab.Qemu;

/// <summary>
/// Configuration space of every function as a guest read it on KvmLab and under QEMU (the "config-dump" guest's
/// output), byte by byte: each differing byte is either explained by a <see cref="ConfigSpaceDifferenceReason"/>
/// or counts as a fault of KvmLab's device model.
/// </summary>
internal sealed class ConfigSpaceComparison
{
    private ConfigSpaceComparison(IReadOnlyList<ConfigByteDifference> differences, int functions, int bytes)
    {
        Differences = differences;
        Functions = functions;
        BytesCompared = bytes;
    }

    /// <summary>Every byte that differs, in function and offset order.</summary>
    public IReadOnlyList<ConfigByteDifference> Differences { get; }

    /// <summary>The differing bytes no reason explains.</summary>
    public IReadOnlyList<ConfigByteDifference> Unexplained => Differences.Where(d => d.Reason is null).ToList();

    /// <summary>Functions seen on either side.</summary>
    public int Functions { get; }

    /// <summary>Bytes compared.</summary>
    public int BytesCompared { get; }

    /// <summary>Compares two dumps, explaining differences with <paramref name="reasons"/>.</summary>
    public static ConfigSpaceComparison Compare(string kvmLabDump, string qemuDump, IEnumerable<ConfigSpaceDifferenceReason> reasons)
    {
        var kvm = Parse(kvmLabDump);
        var qemu = Parse(qemuDump);
        var why = reasons.ToList();
        var functions = kvm.Keys.Select(k => k.Function).Concat(qemu.Keys.Select(k => k.Function)).Distinct(StringComparer.Ordinal).ToList();
        var keySet = kvm.Keys.Union(qemu.Keys).Where(k => k.Offset != ConventionalKey).ToHashSet();
        foreach (var function in functions)
        {
            // One side conventional (extended space all-ones), the other express: every extended byte counts.
            if (kvm.ContainsKey((function, ConventionalKey)) != qemu.ContainsKey((function, ConventionalKey)) &&
                FunctionPresent(kvm, function) && FunctionPresent(qemu, function))
            {
                for (var offset = 0x100; offset < 0x1000; offset++) keySet.Add((function, offset));
            }
        }

        var keys = keySet.OrderBy(k => k.Function, StringComparer.Ordinal).ThenBy(k => k.Offset).ToList();
        var differences = new List<ConfigByteDifference>();
        foreach (var key in keys)
        {
            byte? a = kvm.TryGetValue(key, out var x) ? x : FunctionPresent(kvm, key.Function) ? Absent(kvm, key) : null;
            byte? b = qemu.TryGetValue(key, out var y) ? y : FunctionPresent(qemu, key.Function) ? Absent(qemu, key) : null;
            if (a == b) continue;
            var reason = why.FirstOrDefault(r => r.Explains(key.Function, key.Offset))?.Reason;
            differences.Add(new ConfigByteDifference(key.Function, key.Offset, a, b, reason));
        }

        return new ConfigSpaceComparison(differences, functions.Count, keys.Count);
    }

    /// <summary>The differences grouped into runs of adjacent bytes, one line each, as people read them.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Functions} functions, {BytesCompared} bytes compared, {Differences.Count} differ ({Unexplained.Count} unexplained)\n");
        var wholeFunctions = Differences.GroupBy(d => d.Function)
            .Where(f => f.Select(d => d.Reason).Distinct().Count() == 1 && f.First().Reason is not null &&
                        (f.All(d => d.KvmLab is null) || f.All(d => d.Qemu is null)))
            .ToDictionary(f => f.Key, f => f.ToList());
        foreach (var (function, bytes) in wholeFunctions)
        {
            var side = bytes[0].KvmLab is null ? "QEMU" : "KvmLab";
            sb.Append(CultureInfo.InvariantCulture, $"e {function} only on {side}: {bytes.Count(b => (b.KvmLab ?? b.Qemu) != 0)} non-zero bytes  ({bytes[0].Reason})\n");
        }

        foreach (var run in Runs().Where(r => !wholeFunctions.ContainsKey(r[0].Function)))
        {
            var first = run[0];
            static string Bytes(IEnumerable<byte?> v) => string.Join(" ", v.Select(b => b is { } x ? x.ToString("x2", CultureInfo.InvariantCulture) : "--"));
            sb.Append(first.Reason is null ? "! " : "e ")
              .Append(CultureInfo.InvariantCulture, $"{first.Function} 0x{first.Offset:x3}..+{run.Count}: KvmLab {Bytes(run.Select(d => d.KvmLab))} | QEMU {Bytes(run.Select(d => d.Qemu))}");
            if (first.Reason is { } r) sb.Append("  (").Append(r).Append(')');
            sb.Append('\n');
        }

        return sb.ToString();
    }

    private IEnumerable<List<ConfigByteDifference>> Runs()
    {
        List<ConfigByteDifference>? run = null;
        foreach (var d in Differences)
        {
            if (run is not null && run[^1].Function == d.Function && run[^1].Offset + 1 == d.Offset && run[^1].Reason == d.Reason && run.Count < 16)
            {
                run.Add(d);
                continue;
            }

            if (run is not null) yield return run;
            run = [d];
        }

        if (run is not null) yield return run;
    }

    // A printed function's line that is missing was all zeros, except the extended space of a conventional function.
    private static byte Absent(Dictionary<(string Function, int Offset), byte> dump, (string Function, int Offset) key) =>
        key.Offset >= 0x100 && dump.ContainsKey((key.Function, ConventionalKey)) ? (byte)0xFF : (byte)0;

    private const int ConventionalKey = -1;

    private static bool FunctionPresent(Dictionary<(string Function, int Offset), byte> dump, string function) =>
        dump.ContainsKey((function, 0));

    /// <summary>
    /// Reads a config-dump transcript: lines "BB:DD.F OOO: dword dword dword dword" (bytes in little-endian order
    /// within each dword) and "BB:DD.F 100-fff all-ones". Other lines are ignored.
    /// </summary>
    /// <returns>Bytes by function and offset; a conventional function's extended space is one entry at offset -1.</returns>
    public static Dictionary<(string Function, int Offset), byte> Parse(string dump)
    {
        ArgumentNullException.ThrowIfNull(dump);
        var bytes = new Dictionary<(string, int), byte>();
        foreach (var raw in dump.Split('\n'))
        {
            var parts = raw.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || parts[0].Length != 7 || parts[0][2] != ':' || parts[0][5] != '.') continue;
            var function = parts[0].ToLowerInvariant();
            if (parts is [_, "100-fff", "all-ones"])
            {
                bytes[(function, ConventionalKey)] = 0xFF;
                continue;
            }

            if (parts.Length != 6 || !parts[1].EndsWith(':') ||
                !int.TryParse(parts[1].AsSpan(0, parts[1].Length - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var offset))
                continue;
            for (var i = 0; i < 4; i++)
            {
                if (!uint.TryParse(parts[2 + i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var dword)) break;
                for (var b = 0; b < 4; b++) bytes[(function, offset + i * 4 + b)] = (byte)(dword >> (b * 8));
            }
        }

        return bytes;
    }
}

/// <summary>One configuration byte that differs.</summary>
/// <param name="Function">"BB:DD.F".</param>
/// <param name="Offset">Register offset.</param>
/// <param name="KvmLab">KvmLab's byte, or null when KvmLab has no such function.</param>
/// <param name="Qemu">QEMU's byte, or null when QEMU has no such function.</param>
/// <param name="Reason">Why it differs, or null when nothing explains it.</param>
internal sealed record ConfigByteDifference(string Function, int Offset, byte? KvmLab, byte? Qemu, string? Reason);

/// <summary>A known reason for configuration bytes to differ: a function (and optionally a range of it) on a board.</summary>
/// <param name="Function">"BB:DD.F".</param>
/// <param name="First">First offset explained.</param>
/// <param name="Last">Last offset explained.</param>
/// <param name="Reason">Why, for people.</param>
internal sealed record ConfigSpaceDifferenceReason(string Function, int First, int Last, string Reason)
{
    /// <summary>Whether this reason covers <paramref name="function"/> at <paramref name="offset"/>.</summary>
    public bool Explains(string function, int offset) =>
        string.Equals(function, Function, StringComparison.OrdinalIgnoreCase) && offset >= First && offset <= Last;

    /// <summary>The reasons that hold on <paramref name="board"/> ("pc" or "q35").</summary>
    public static IReadOnlyList<ConfigSpaceDifferenceReason> For(string board) => board switch
    {
        "pc" =>
        [
            new("00:01.0", 0, 0xFFF, KnownDifferences.PiixFunctions),
            new("00:01.1", 0, 0xFFF, KnownDifferences.PiixFunctions),
            new("00:01.3", 0, 0xFFF, KnownDifferences.PiixFunctions),
        ],
        _ => [],
    };
}
