using System.Text;
using System.Text.Json;

namespace KvmLab.Qemu;

/// <summary>The result of <see cref="TraceAligner.Align"/>: aligned rows and per-region counts on both sides.</summary>
public sealed class TraceAlignment
{
    internal TraceAlignment(string kvmLabName, string qemuName, IReadOnlyList<AlignedRow> rows, IReadOnlyList<RegionCount> counts)
    {
        KvmLabName = kvmLabName;
        QemuName = qemuName;
        Rows = rows;
        Counts = counts;
    }

    /// <summary>Name of the KvmLab trace.</summary>
    public string KvmLabName { get; }

    /// <summary>Name of the QEMU trace.</summary>
    public string QemuName { get; }

    /// <summary>The aligned steps in program order.</summary>
    public IReadOnlyList<AlignedRow> Rows { get; }

    /// <summary>Accesses per region on each side, by region name.</summary>
    public IReadOnlyList<RegionCount> Counts { get; }

    /// <summary>Number of rows with <paramref name="status"/>.</summary>
    public int CountOf(AlignmentStatus status) => Rows.Count(r => r.Status == status);

    /// <summary>True when every row matches, is a poll of different length, or is an explained structural difference.</summary>
    public bool Agrees => !Divergences.Any();

    /// <summary>The rows that make <see cref="Agrees"/> false: unexplained value mismatches and one-sided accesses.</summary>
    public IEnumerable<AlignedRow> Divergences => Rows.Where(r => IsDivergence(r.Status));

    /// <summary>Whether a row with <paramref name="status"/> is a divergence (the rest agree: matches, polls, explained differences).</summary>
    internal static bool IsDivergence(AlignmentStatus status) =>
        status is AlignmentStatus.ValueMismatch or AlignmentStatus.OnlyKvmLab or AlignmentStatus.OnlyQemu;

    /// <summary>
    /// A fixed-width text table: the rows, each marked in its first column ('!' a divergence, '~' a poll of different
    /// length, 'e' an explained difference, blank a match), then the per-region counts.
    /// </summary>
    public string ToTable() => ToTable(onlyDifferences: false);

    /// <summary><see cref="ToTable()"/>, optionally leaving out the matching rows (row numbers stay those of the full table).</summary>
    public string ToTable(bool onlyDifferences)
    {
        var sb = new StringBuilder();
        var left = Math.Max(6, Rows.Select(r => r.KvmLab?.ToString().Length ?? 0).DefaultIfEmpty().Max());
        var right = Math.Max(4, Rows.Select(r => r.Qemu?.ToString().Length ?? 0).DefaultIfEmpty().Max());
        sb.Append("     # ").Append("KvmLab".PadRight(left)).Append(" | ").Append("QEMU".PadRight(right)).Append(" | ")
            .Append("status".PadRight(13)).AppendLine(" | note");
        for (var i = 0; i < Rows.Count; i++)
        {
            var r = Rows[i];
            if (onlyDifferences && r.Status == AlignmentStatus.Match) continue;
            sb.Append(Marker(r.Status)).Append(' ').Append((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(4)).Append(' ')
                .Append((r.KvmLab?.ToString() ?? "").PadRight(left)).Append(" | ")
                .Append((r.Qemu?.ToString() ?? "").PadRight(right)).Append(" | ")
                .Append(r.Status.ToString().PadRight(13)).Append(" | ").AppendLine(r.Note);
        }
        sb.AppendLine();
        sb.AppendLine("region               device           KvmLab    QEMU");
        foreach (var c in Counts)
            sb.Append(c.Region.PadRight(20)).Append(' ').Append(c.Device.PadRight(16)).Append(' ')
                .Append(c.KvmLab.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(6)).Append(' ')
                .AppendLine(c.Qemu.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(7));
        sb.Append("rows: ").AppendJoin(", ", Enum.GetValues<AlignmentStatus>().Select(s => $"{s} {CountOf(s)}")).AppendLine();
        return sb.ToString();
    }

    private static char Marker(AlignmentStatus status) => status switch
    {
        AlignmentStatus.Match => ' ',
        AlignmentStatus.Collapsed => '~',
        AlignmentStatus.Explained => 'e',
        _ => '!',
    };

    /// <summary>The alignment as JSON: {"kvmlab", "qemu", "summary", "counts", "rows"}; addresses and values in hex.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        WriteJson(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes <see cref="ToJson"/>'s document to <paramref name="stream"/>.</summary>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        WriteJson(w);
    }

    internal void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("kvmlab", KvmLabName);
        w.WriteString("qemu", QemuName);
        w.WriteStartObject("summary");
        foreach (var s in Enum.GetValues<AlignmentStatus>()) w.WriteNumber(s.ToString(), CountOf(s));
        w.WriteEndObject();
        w.WriteStartArray("counts");
        foreach (var c in Counts)
        {
            w.WriteStartObject();
            w.WriteString("region", c.Region);
            w.WriteString("device", c.Device);
            w.WriteNumber("kvmlab", c.KvmLab);
            w.WriteNumber("qemu", c.Qemu);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("rows");
        foreach (var r in Rows)
        {
            w.WriteStartObject();
            w.WriteString("status", r.Status.ToString());
            WriteSide(w, "kvmlab", r.KvmLab);
            WriteSide(w, "qemu", r.Qemu);
            if (r.Note.Length > 0) w.WriteString("note", r.Note);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteSide(Utf8JsonWriter w, string name, AlignedAccess? a)
    {
        if (a is null)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartObject(name);
        w.WriteNumber("index", a.FirstIndex);
        w.WriteNumber("count", a.Count);
        w.WriteString("region", a.Region);
        w.WriteString("address_space", a.AddressSpace);
        if (a.Access != Tracing.TraceAccess.None) w.WriteString("access", Tracing.TraceAccessExtensions.Label(a.Access));
        if (a.Address is { } addr) w.WriteString("address", $"0x{addr:x}");
        if (a.Size > 0) w.WriteNumber("size", a.Size);
        if (a.Value is { } v) w.WriteString("value", $"0x{v:x}");
        if (a.Count > 1) w.WriteString("values", a.Values);
        w.WriteEndObject();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"Alignment of '{KvmLabName}' with '{QemuName}': " + string.Join(", ", Enum.GetValues<AlignmentStatus>().Select(s => $"{s} {CountOf(s)}"));
}
