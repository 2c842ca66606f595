namespace KvmLab.Qemu;

/// <summary>
/// Compares two serial outputs line by line (a longest-common-subsequence diff) and, given the trace alignment of the
/// same runs, explains a differing line by the accesses that wrote it.
/// </summary>
/// <remarks>
/// Byte k of a side's output is the k-th write to COM1's transmit register (port 0x3F8) in that side's trace, so a
/// line maps to the aligned rows that wrote its bytes. A line only one side printed is <see cref="SerialLineStatus.Explained"/>
/// when every row that wrote it is <see cref="AlignmentStatus.Explained"/> (the guest printing what it found at a
/// function only QEMU has, for instance), with those rows' reasons as its note. When the transmit writes and the output
/// do not have the same length (a guest that programs the divisor latch through port 0x3F8), lines are not attributed
/// and every difference counts. Lines that start with the same one of the guest's random-line prefixes
/// (<see cref="Loading.GuestImage.RandomLinePrefixes"/>) are paired as one line; when their texts differ the pair is
/// <see cref="SerialLineStatus.Explained"/> by <see cref="KnownDifferences.RandomData"/>.
/// </remarks>
internal static class SerialComparison
{
    /// <summary>Lines up <paramref name="kvmLab"/> with <paramref name="qemu"/>; see <see cref="SerialLine"/>.</summary>
    /// <param name="kvmLab">KvmLab's serial output.</param>
    /// <param name="qemu">QEMU's serial output.</param>
    /// <param name="alignment">The aligned traces of the runs that printed them, to explain differences; null for none.</param>
    /// <param name="randomLinePrefixes">Starts of the lines the guest prints random data on; null or empty for none.</param>
    public static IReadOnlyList<SerialLine> Compare(string kvmLab, string qemu, TraceAlignment? alignment = null,
        IReadOnlyList<string>? randomLinePrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(kvmLab);
        ArgumentNullException.ThrowIfNull(qemu);
        var a = Lines(kvmLab);
        var b = Lines(qemu);
        var writersA = alignment is null ? null : Writers(alignment, r => r.KvmLab, kvmLab.Length);
        var writersB = alignment is null ? null : Writers(alignment, r => r.Qemu, qemu.Length);
        var prefixes = randomLinePrefixes ?? [];
        bool Pairs(string x, string y) => x == y || prefixes.Any(p => p.Length > 0 && x.StartsWith(p, StringComparison.Ordinal) && y.StartsWith(p, StringComparison.Ordinal));
        var lcs = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
            for (var j = b.Count - 1; j >= 0; j--)
                lcs[i, j] = Pairs(a[i].Text, b[j].Text) ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var result = new List<SerialLine>();
        int x = 0, y = 0;
        while (x < a.Count || y < b.Count)
        {
            if (x < a.Count && y < b.Count && Pairs(a[x].Text, b[y].Text))
            {
                var same = a[x].Text == b[y].Text;
                result.Add(new SerialLine(a[x++].Text, b[y++].Text, same ? SerialLineStatus.Same : SerialLineStatus.Explained,
                    same ? "" : KnownDifferences.RandomData));
            }
            else if (y < b.Count && (x == a.Count || lcs[x, y + 1] >= lcs[x + 1, y]))
            {
                var (status, note) = Explain(b[y], writersB, alignment);
                result.Add(new SerialLine(null, b[y++].Text, status, note));
            }
            else
            {
                var (status, note) = Explain(a[x], writersA, alignment);
                result.Add(new SerialLine(a[x++].Text, null, status, note));
            }
        }
        return result;
    }

    private static (SerialLineStatus, string) Explain(Line line, int[]? writers, TraceAlignment? alignment)
    {
        if (writers is null || alignment is null) return (SerialLineStatus.Differs, "");
        var rows = Enumerable.Range(line.Start, line.Length).Select(k => alignment.Rows[writers[k]]).ToList();
        if (rows.Count == 0 || rows.Any(r => r.Status != AlignmentStatus.Explained)) return (SerialLineStatus.Differs, "");
        return (SerialLineStatus.Explained, string.Join("; ", rows.Select(r => r.Note).Distinct()));
    }

    // Row index of the transmit write behind each output byte, or null when the writes do not account for the output.
    private static int[]? Writers(TraceAlignment alignment, Func<AlignedRow, AlignedAccess?> side, int length)
    {
        var writers = new List<int>(length);
        for (var n = 0; n < alignment.Rows.Count; n++)
        {
            if (side(alignment.Rows[n]) is { Region: "serial", Access: Tracing.TraceAccess.PioWrite, Address: PcLayout.Com1Port })
                writers.Add(n);
        }
        return writers.Count == length ? writers.ToArray() : null;
    }

    private readonly record struct Line(string Text, int Start, int Length);

    // Start and Length cover the line's bytes and its newline, so that every transmit write belongs to a line.
    private static List<Line> Lines(string text)
    {
        var lines = new List<Line>();
        var start = 0;
        while (start < text.Length)
        {
            var nl = text.IndexOf('\n', start);
            var end = nl < 0 ? text.Length : nl + 1;
            lines.Add(new Line(text[start..(nl < 0 ? end : nl)].TrimEnd('\r'), start, end - start));
            start = end;
        }
        return lines;
    }
}
