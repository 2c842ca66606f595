using System.Globalization;

namespace KvmLab.Tests.Pci;

/// <summary>
/// The measurements under Pci/Reference, made with tools/qemu-config-dump on QEMU 7.2: dumps ('BB:DD.F OOO: 16 bytes')
/// and mask probes ('BB:DD.F OOO: v0 v1 v2 v3', the reads before, after writing all-ones, after writing zeros, after
/// writing v0 back).
/// </summary>
public static class QemuReference
{
    public sealed record Function(int Bus, int DevFn, string Name)
    {
        public static Function Parse(string text)
        {
            string[] parts = text.Split(':', '.');
            int bus = int.Parse(parts[0], NumberStyles.HexNumber), dev = int.Parse(parts[1], NumberStyles.HexNumber);
            int fn = int.Parse(parts[2], NumberStyles.HexNumber);
            return new Function(bus, (dev << 3) | fn, text);
        }

        public override string ToString() => Name;
    }

    public sealed record ProbeLine(Function Function, int Offset, uint Reset, uint AfterOnes, uint AfterZeros, uint Restored);

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Pci", "Reference", file);

    /// <summary>Each function's bytes, in file order.</summary>
    public static IReadOnlyList<(Function Function, byte[] Bytes)> Dump(string file)
    {
        var result = new List<(Function, byte[])>();
        var bytes = new Dictionary<string, List<byte>>();
        foreach (string line in Lines(file))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!bytes.TryGetValue(f[0], out var list))
            {
                list = [];
                bytes[f[0]] = list;
                result.Add((Function.Parse(f[0]), []));
            }

            Assert.Equal(list.Count, int.Parse(f[1].TrimEnd(':'), NumberStyles.HexNumber));
            list.AddRange(f.Skip(2).Select(b => byte.Parse(b, NumberStyles.HexNumber)));
        }

        return result.Select(r => (r.Item1, bytes[r.Item1.Name].ToArray())).ToList();
    }

    /// <summary>The probe's dwords in the order the firmware probed them.</summary>
    public static IReadOnlyList<ProbeLine> Probe(string file) =>
        Lines(file).Select(line =>
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            uint V(int i) => uint.Parse(f[i], NumberStyles.HexNumber);
            return new ProbeLine(Function.Parse(f[0]), int.Parse(f[1].TrimEnd(':'), NumberStyles.HexNumber), V(2), V(3), V(4), V(5));
        }).ToList();

    private static IEnumerable<string> Lines(string file) =>
        File.ReadLines(PathOf(file)).Where(l => l.Length > 0 && !l.StartsWith('#'));
}
