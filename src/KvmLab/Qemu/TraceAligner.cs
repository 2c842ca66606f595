using System.Globalization;
using KvmLab.Kvm;
using KvmLab.Pci;
using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// Lines up a KvmLab trace with a QEMU trace of the same guest, access by access, the way <c>diff</c> lines up two
/// files: a shortest edit script (Myers) over the device accesses of both traces, where two accesses correspond when
/// they hit the same region in the same direction at the same address with the same size (and, for PCI configuration
/// accesses, reach the same function and register, as each trace recorded when the access was dispatched); values
/// are then compared.
/// </summary>
/// <remarks>
/// Only runs of identical reads that returned identical values (a guest polling a status register) are collapsed, one
/// step per side that counts the reads; every other read is a step of its own and its value is compared. Reads are
/// first paired only with reads that returned the same value, then, inside each stretch that did not pair, by
/// access alone, so a changed value shows as a <see cref="AlignmentStatus.ValueMismatch"/> in place. A poll is
/// <see cref="AlignmentStatus.Collapsed"/> when both sides polled the same value a different number of times, or when
/// only one side polled before both read the value that ended it: how often a guest polls depends on timing, not on
/// the device model. Accesses no region served (<see cref="Unclaimed"/>) are compared by address space, direction,
/// size and address (or, for a size a region rejected, by that region: QEMU logs the offset into it), and by value
/// where both traces hold it. MSIs are writes of the message data to the message address on both sides (KvmLab records
/// each one it sends; QEMU's memory API traces the store) and compare like any access. Known structural differences
/// between the machines (<see cref="KnownDifferences"/>) turn exactly the rows they are about into
/// <see cref="AlignmentStatus.Explained"/> ones with the reason in the note: QEMU's firmware stub, QEMU's reset
/// activity (accesses no vCPU made, before QEMU's first exit), configuration accesses that reach QEMU's PIIX3
/// functions at 00:01.x, the lines the guest prints only about those functions, and the transmit writes of a line the
/// guest declared random. They stay in the alignment, visible, but do not count as divergences.
/// </remarks>
internal static class TraceAligner
{
    /// <summary>Region name used for accesses that no region served (or whose size the region rejected).</summary>
    public const string Unclaimed = "(unclaimed)";

    /// <summary>Above this many edits the traces are reported as not alignable past their common prefix and suffix.</summary>
    public const int MaxEdits = 2048;

    /// <summary>Aligns <paramref name="kvmLab"/> (KvmLab's run) with <paramref name="qemu"/> (QEMU's run).</summary>
    /// <param name="kvmLab">KvmLab's trace.</param>
    /// <param name="qemu">QEMU's trace.</param>
    /// <param name="randomLinePrefixes">Starts of serial lines the guest prints random data on
    /// (<see cref="Loading.GuestImage.RandomLinePrefixes"/>): a COM1 transmit write whose value differs is explained when
    /// it prints such a line on both sides. Null or empty: none.</param>
    public static TraceAlignment Align(ExitTrace kvmLab, ExitTrace qemu, IReadOnlyList<string>? randomLinePrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(kvmLab);
        ArgumentNullException.ThrowIfNull(qemu);
        var a = Collapse(Steps(kvmLab, qemuSide: false));
        var b = Collapse(Steps(qemu, qemuSide: true));
        var script = Refine(Diff(a, b, 0, a.Count, 0, b.Count, Step.SameAccessAndValue), a, b);
        var rows = new AlignedRow[script.Count];
        for (var n = 0; n < script.Count; n++)
        {
            var (op, i, j) = script[n];
            rows[n] = op switch
            {
                Op.Both => Pair(a[i], b[j]),
                Op.OnlyA => new AlignedRow(a[i].ToAccess(), null, AlignmentStatus.OnlyKvmLab, OnlyNote(a[i], qemuSide: false)),
                _ => new AlignedRow(null, b[j].ToAccess(), AlignmentStatus.OnlyQemu, OnlyNote(b[j], qemuSide: true)),
            };
        }
        ExplainQemuActivity(script, b, rows, FirstExit(qemu));
        ExplainMsiTiming(script, a, b, rows);
        ExplainPolls(script, a, b, rows);
        ExplainPiixHunks(script, a, b, rows);
        if (randomLinePrefixes is { Count: > 0 }) ExplainRandomLines(script, a, b, rows, randomLinePrefixes);
        return new TraceAlignment(kvmLab.Name, qemu.Name, rows, Counts(a, b));
    }

    // Index of the first record that is a KVM exit of QEMU's vCPU; int.MaxValue when there is none (TCG).
    private static int FirstExit(ExitTrace trace)
    {
        for (var i = 0; i < trace.Count; i++)
            if (trace[i].Reason != ExitReason.Unknown) return i;
        return int.MaxValue;
    }

    // Leading QEMU-only accesses before the payload's first instruction: QEMU's firmware stub (port 0x92), and
    // accesses no vCPU made ahead of QEMU's first exit, to a region KvmLab does not have or to the MSI region.
    private static void ExplainQemuActivity(List<(Op Op, int I, int J)> script, List<Step> b, AlignedRow[] rows, int firstExit)
    {
        for (var n = 0; n < script.Count && script[n].Op == Op.OnlyB; n++)
        {
            var s = b[script[n].J];
            string? why = s.Region == "port92" ? KnownDifferences.FirmwareStub
                : s.Reason == ExitReason.Unknown && s.First < firstExit && s.Region != Unclaimed
                    && (s.Key == MsiRegion || !QemuRegions.Shared.Contains(s.Region)) ? KnownDifferences.QemuResetActivity
                : null;
            if (why is null) return;
            rows[n] = rows[n] with { Status = AlignmentStatus.Explained, Note = why };
        }
    }

    // MSIs that only one side has at a place in the guest's accesses pair, in order, with those only the other side has
    // elsewhere when they are the same message (address and data): the device sent it from asynchronous work, which
    // lands between different guest accesses on the two sides. An MSI with other data, or one side's extra MSI, stays
    // a divergence.
    private static void ExplainMsiTiming(List<(Op Op, int I, int J)> script, List<Step> a, List<Step> b, AlignedRow[] rows)
    {
        var kvmLab = new List<int>();
        var qemu = new List<int>();
        for (var n = 0; n < rows.Length; n++)
        {
            if (rows[n].Status == AlignmentStatus.OnlyKvmLab && a[script[n].I].Key == MsiRegion) kvmLab.Add(n);
            else if (rows[n].Status == AlignmentStatus.OnlyQemu && b[script[n].J].Key == MsiRegion) qemu.Add(n);
        }
        for (var k = 0; k < Math.Min(kvmLab.Count, qemu.Count); k++)
        {
            var x = a[script[kvmLab[k]].I];
            var y = b[script[qemu[k]].J];
            if (x.Address != y.Address || x.Value != y.Value || x.Size != y.Size) return;
            foreach (var n in new[] { kvmLab[k], qemu[k] })
                rows[n] = rows[n] with { Status = AlignmentStatus.Explained, Note = Join(rows[n].Note, KnownDifferences.MsiTiming) };
        }
    }

    // A stretch of divergent rows that is one side's poll of a register, right before both sides read the value that
    // ended it, is timing: the other side found the register ready at its first read.
    private static void ExplainPolls(List<(Op Op, int I, int J)> script, List<Step> a, List<Step> b, AlignedRow[] rows)
    {
        for (var n = 0; n + 1 < rows.Length; n++)
        {
            if (rows[n].Status is not (AlignmentStatus.OnlyKvmLab or AlignmentStatus.OnlyQemu)) continue;
            if (n > 0 && TraceAlignment.IsDivergence(rows[n - 1].Status)) continue;
            if (script[n + 1].Op != Op.Both) continue;
            var poll = script[n].Op == Op.OnlyA ? a[script[n].I] : b[script[n].J];
            var next = script[n].Op == Op.OnlyA ? a[script[n + 1].I] : b[script[n + 1].J];
            if (!poll.Access.IsRead() || !Step.SameAccess(poll, next) || poll.Value == next.Value || rows[n + 1].Status != AlignmentStatus.Match) continue;
            var side = script[n].Op == Op.OnlyA ? "KvmLab" : "QEMU";
            var other = script[n].Op == Op.OnlyA ? "QEMU" : "KvmLab";
            rows[n] = rows[n] with
            {
                Status = AlignmentStatus.Collapsed,
                Note = Join(rows[n].Note, $"poll: {side} read 0x{poll.Value:x} {poll.Count}x before both read 0x{next.Value:x}; {other} read it at once"),
            };
        }
    }

    // Within a hunk (a run of divergent rows) that reaches QEMU's PIIX3 functions in slot 1 of bus 0, the rows of
    // configuration accesses to slot 1 are explained, and so are the serial accesses of each line that only one side
    // printed, inside such hunks, about a slot-1 function it reached there (the line names it, or continues, indented, a
    // line that does). Nothing else is: a value mismatch at any other device or on the serial port still counts.
    private static void ExplainPiixHunks(List<(Op Op, int I, int J)> script, List<Step> a, List<Step> b, AlignedRow[] rows)
    {
        var hunkOf = new int[rows.Length];
        var hunks = new List<HashSet<PciAddress>>();
        for (var n = 0; n < rows.Length;)
        {
            if (!TraceAlignment.IsDivergence(rows[n].Status))
            {
                hunkOf[n++] = -1;
                continue;
            }
            var functions = new HashSet<PciAddress>();
            for (; n < rows.Length && TraceAlignment.IsDivergence(rows[n].Status); n++)
            {
                hunkOf[n] = hunks.Count;
                foreach (var s in StepsOf(script[n], a, b))
                    if (PiixFunction(s) is { } f) functions.Add(f);
            }
            hunks.Add(functions);
        }

        var reportA = PiixReportLines(script, a, hunkOf, hunks, Op.OnlyA, e => e.I);
        var reportB = PiixReportLines(script, b, hunkOf, hunks, Op.OnlyB, e => e.J);
        for (var n = 0; n < rows.Length; n++)
        {
            if (hunkOf[n] < 0 || hunks[hunkOf[n]].Count == 0) continue;
            if (StepsOf(script[n], a, b).All(s => PiixFunction(s) is not null))
            {
                var note = rows[n].Note.Contains(KnownDifferences.PiixFunctions, StringComparison.Ordinal) ? rows[n].Note
                    : Join(rows[n].Note, KnownDifferences.PiixFunctions);
                rows[n] = rows[n] with { Status = AlignmentStatus.Explained, Note = note };
            }
            else if (reportA.TryGetValue(n, out var f) || reportB.TryGetValue(n, out f))
                rows[n] = rows[n] with { Status = AlignmentStatus.Explained, Note = $"the guest reporting {f}, {PiixFunctionName(f)}" };
        }
    }

    // Rows of one side's serial accesses that print a whole line only that side printed, all of it inside PIIX hunks,
    // about a slot-1 function the hunk reached; by row, with the function the line is about.
    private static Dictionary<int, PciAddress> PiixReportLines(List<(Op Op, int I, int J)> script, List<Step> steps,
        int[] hunkOf, List<HashSet<PciAddress>> hunks, Op only, Func<(Op Op, int I, int J), int> index)
    {
        var rowOf = new Dictionary<int, int>();
        for (var n = 0; n < script.Count; n++)
            if (index(script[n]) >= 0) rowOf[index(script[n])] = n;
        var result = new Dictionary<int, PciAddress>();
        PciAddress? about = null;
        foreach (var line in SerialLines(steps))
        {
            var text = line.Text;
            var named = NamedFunction(text);
            about = named ?? (text.StartsWith(' ') ? about : null);
            if (about is not { } f) continue;
            var lineRows = line.Steps.Select(i => rowOf[i]).ToList();
            if (!lineRows.All(r => script[r].Op == only && hunkOf[r] >= 0 && hunks[hunkOf[r]].Contains(f)))
                continue;
            foreach (var r in lineRows) result[r] = f;
        }
        return result;
    }

    // "00:01.1 8086:7010 ...": the function a line of the guest's bus report starts with, when it is in slot 1 of bus 0.
    private static PciAddress? NamedFunction(string text)
    {
        if (text.Length < 7 || text[2] != ':' || text[5] != '.') return null;
        if (!int.TryParse(text.AsSpan(0, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var bus)
            || !int.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var device)
            || !int.TryParse(text.AsSpan(6, 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var function))
            return null;
        return bus == 0 && device == 1 ? new PciAddress(0, 1, function) : null;
    }

    private readonly record struct SerialLine(string Text, List<int> Steps);

    // The lines one side printed through COM1's transmit register, each with every serial step that printed it: its
    // transmit writes and the status polls ahead of each of them.
    private static List<SerialLine> SerialLines(List<Step> steps)
    {
        var lines = new List<SerialLine>();
        var text = new System.Text.StringBuilder();
        var current = new List<int>();
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].Region != "serial") continue;
            current.Add(i);
            if (steps[i] is not { Access: TraceAccess.PioWrite, Address: PcLayout.Com1Port }) continue;
            var c = (char)(byte)(steps[i].Value ?? 0);
            if (c == '\n')
            {
                lines.Add(new SerialLine(text.ToString().TrimEnd('\r'), current));
                text.Clear();
                current = [];
            }
            else text.Append(c);
        }
        if (text.Length > 0) lines.Add(new SerialLine(text.ToString(), current));
        return lines;
    }

    // A transmit write whose value differs is explained when, on both sides, it prints a line with a random prefix.
    // Only value mismatches qualify: a random line still has to be printed by the same number of writes.
    private static void ExplainRandomLines(List<(Op Op, int I, int J)> script, List<Step> a, List<Step> b, AlignedRow[] rows,
        IReadOnlyList<string> prefixes)
    {
        var randomA = RandomLineSteps(a, prefixes);
        var randomB = RandomLineSteps(b, prefixes);
        for (var n = 0; n < script.Count; n++)
        {
            if (rows[n].Status == AlignmentStatus.ValueMismatch && randomA.Contains(script[n].I) && randomB.Contains(script[n].J))
                rows[n] = rows[n] with { Status = AlignmentStatus.Explained, Note = KnownDifferences.RandomData };
        }
    }

    // The transmit writes (and the newline) of lines starting with one of the prefixes.
    private static HashSet<int> RandomLineSteps(List<Step> steps, IReadOnlyList<string> prefixes)
    {
        var random = new HashSet<int>();
        foreach (var line in SerialLines(steps))
            if (prefixes.Any(p => p.Length > 0 && line.Text.StartsWith(p, StringComparison.Ordinal)))
                foreach (var i in line.Steps)
                    if (steps[i] is { Access: TraceAccess.PioWrite, Address: PcLayout.Com1Port }) random.Add(i);
        return random;
    }

    private static IEnumerable<Step> StepsOf((Op Op, int I, int J) entry, List<Step> a, List<Step> b)
    {
        if (entry.I >= 0) yield return a[entry.I];
        if (entry.J >= 0) yield return b[entry.J];
    }

    private static string PiixFunctionName(PciAddress function) => function.Function switch
    {
        0 => "QEMU's PIIX3 ISA bridge (8086:7000)",
        1 => "QEMU's PIIX3 IDE controller (8086:7010)",
        3 => "QEMU's PIIX4 ACPI/power management function (8086:7113)",
        _ => "a slot-1 function of QEMU's pc machine",
    };

    // The slot-1 function of bus 0 a configuration access reached, or a CONFIG_ADDRESS write selected.
    private static PciAddress? PiixFunction(Step s) => (s.Function ?? s.Selects) is { Bus: 0, Device: 1 } f ? f : null;

    private static AlignedRow Pair(Step k, Step q)
    {
        var note = ConfigNote(k) is { Length: > 0 } n ? n : ConfigNote(q);
        if (k.Access == TraceAccess.None || q.Access == TraceAccess.None)
            return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.Match, Join(note,
                "no region served it and neither trace holds its address: both show only the exit"));
        if (k.Value is not { } kv || q.Value is not { } qv)
            return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.Match, Join(note,
                "refused by QEMU's memory core, which logs address, size and region but not the value"));
        if (kv != qv)
            return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.ValueMismatch, Join(note, MismatchNote(k, q)));
        if (k.Count == q.Count)
            return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.Match, Join(note, k.Count > 1 ? $"{k.Count} identical reads on both sides" : ""));
        return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.Collapsed,
            Join(note, $"poll: KvmLab read 0x{kv:x} {k.Count}x, QEMU {q.Count}x"));
    }

    private static string MismatchNote(Step k, Step q)
    {
        if ((k.Function ?? q.Function) is not { } f) return "";
        var reg = k.Register & ~3;
        if (f is { Bus: 0, Device: 1 }) return KnownDifferences.PiixFunctions;
        if (f is { Bus: 0, Device: 0 } && reg < 0x10) return "host bridge identity differs: QEMU's pc host bridge is the i440FX (8086:1237)";
        if (reg is >= 0x10 and <= 0x24) return KnownDifferences.BarAssignment;
        return "";
    }

    private static string OnlyNote(Step s, bool qemuSide)
    {
        if (s.Region == UnreadableRegion)
            return $"line {s.Line} of the trace names an event but could not be read (cut off or interleaved): an access may be missing here";
        var note = ConfigNote(s);
        if (PiixFunction(s) is not null) note = Join(note, KnownDifferences.PiixFunctions);
        if (qemuSide && s.Region != Unclaimed && s.Key != MsiRegion && !QemuRegions.Shared.Contains(s.Region))
            note = Join(note, $"'{s.Region}' belongs to QEMU's pc machine ({QemuRegions.DeviceOf(s.Region)}); KvmLab does not model it");
        if (qemuSide && s.Reason == ExitReason.Unknown && s.Region != Unclaimed && s.Key != MsiRegion)
            note = Join(note, "no kvm_run_exit precedes it: QEMU's own activity (or a TCG run), not a guest exit");
        return note;
    }

    private static string ConfigNote(Step s)
    {
        if (s.Function is { } f) return string.Create(CultureInfo.InvariantCulture, $"{f} reg 0x{s.Register:x2}");
        if (s.Selects is { } g) return string.Create(CultureInfo.InvariantCulture, $"{g} reg 0x{s.Register:x2}");
        if (s.Region == "pci-conf-data") return "CONFIG_ADDRESS enable bit clear";
        return "";
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "; " + b;

    private static List<RegionCount> Counts(List<Step> a, List<Step> b)
    {
        var counts = new Dictionary<string, (int K, int Q)>(StringComparer.Ordinal);
        foreach (var s in a) counts[s.Region] = (counts.GetValueOrDefault(s.Region).K + s.Count, counts.GetValueOrDefault(s.Region).Q);
        foreach (var s in b) counts[s.Region] = (counts.GetValueOrDefault(s.Region).K, counts.GetValueOrDefault(s.Region).Q + s.Count);
        return counts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new RegionCount(kv.Key, kv.Key == Unclaimed ? Unclaimed : QemuRegions.DeviceOf(kv.Key), kv.Value.K, kv.Value.Q)).ToList();
    }

    // Where a trace has a line that could not be read: pairs with nothing.
    private const string UnreadableRegion = "(unreadable)";

    // QEMU names the APIC's MSI region after its accelerator ("apic-msi" under TCG); KvmLab's MSI records use the KVM name.
    private const string MsiRegion = TraceRecorder.MsiRegion;

    private static List<Step> Steps(ExitTrace trace, bool qemuSide)
    {
        var steps = new List<Step>();
        for (var i = 0; i < trace.Count; i++)
        {
            var r = trace[i];
            if (r.Flags.HasFlag(ExitFlags.Unreadable))
            {
                steps.Add(new Step(i, UnreadableRegion, null, "trace", TraceAccess.None, null, 0, null, r.Reason) { Line = r.Address });
                continue;
            }
            if (r.Access == TraceAccess.None)
            {
                if (r.Flags.HasFlag(ExitFlags.Unassigned) && r.Reason is ExitReason.Io or ExitReason.Mmio)
                    steps.Add(new Step(i, Unclaimed, null, r.Reason == ExitReason.Io ? "io" : "memory", TraceAccess.None, null, 0, null, r.Reason));
                continue;
            }
            var source = trace.SourceOf(r);
            var refused = (r.Flags & (ExitFlags.Unassigned | ExitFlags.Rejected)) != 0;
            var unclaimed = source is null || refused;
            var region = unclaimed ? Unclaimed : source!.Region;
            // A region that refused the size: compared by name, since QEMU logs the offset into it, not the address.
            var claimant = unclaimed && r.Flags.HasFlag(ExitFlags.Rejected) ? source?.Region : null;
            // QEMU's memory core logs no value for an access it refused (its unassigned port reads are ops, with one).
            var valueKnown = !(qemuSide && refused && (r.Flags.HasFlag(ExitFlags.Rejected) || r.Access.IsMmio()));
            var step = new Step(i, region, claimant, r.Access.IsPio() ? "io" : "memory", r.Access,
                claimant is null ? r.Address : null, r.Size, valueKnown ? r.Value : null, r.Reason);
            if (r.TryGetConfigTarget(out var function, out var register))
            {
                step.Function = function;
                step.Register = register;
            }
            else if (region == "pci-conf-idx" && r.Access == TraceAccess.PioWrite && r.Size == 4 && (r.Value & PciHost.ConfigAddressEnable) != 0)
            {
                step.Selects = PciAddress.FromConfigAddress((uint)r.Value);
                step.Register = (int)(r.Value & 0xFC);
            }
            steps.Add(step);
        }
        return steps;
    }

    private static List<Step> Collapse(List<Step> steps)
    {
        var result = new List<Step>();
        foreach (var s in steps)
        {
            if (result.Count > 0 && result[^1].CanAbsorb(s)) result[^1].Count++;
            else result.Add(s);
        }
        return result;
    }

    private enum Op { Both, OnlyA, OnlyB }

    // The reads that returned different values did not pair in the first diff; inside each stretch that did not
    // pair, a second diff pairs accesses by what they are alone, so those reads become value mismatches.
    private static List<(Op Op, int I, int J)> Refine(List<(Op Op, int I, int J)> script, List<Step> a, List<Step> b)
    {
        var result = new List<(Op, int, int)>(script.Count);
        for (var n = 0; n < script.Count;)
        {
            if (script[n].Op == Op.Both)
            {
                result.Add(script[n++]);
                continue;
            }
            var onlyA = new List<int>();
            var onlyB = new List<int>();
            for (; n < script.Count && script[n].Op != Op.Both; n++)
            {
                if (script[n].Op == Op.OnlyA) onlyA.Add(script[n].I);
                else onlyB.Add(script[n].J);
            }
            var subA = onlyA.Select(i => a[i]).ToList();
            var subB = onlyB.Select(j => b[j]).ToList();
            foreach (var (op, i, j) in Diff(subA, subB, 0, subA.Count, 0, subB.Count, Step.SameAccess))
                result.Add((op, i >= 0 ? onlyA[i] : -1, j >= 0 ? onlyB[j] : -1));
        }
        return result;
    }

    private static List<(Op Op, int I, int J)> Diff(List<Step> a, List<Step> b, int a0, int a1, int b0, int b1, Func<Step, Step, bool> same)
    {
        var prefix = 0;
        while (a0 + prefix < a1 && b0 + prefix < b1 && same(a[a0 + prefix], b[b0 + prefix])) prefix++;
        var suffix = 0;
        while (suffix < a1 - a0 - prefix && suffix < b1 - b0 - prefix && same(a[a1 - 1 - suffix], b[b1 - 1 - suffix])) suffix++;

        var script = new List<(Op, int, int)>();
        for (var i = 0; i < prefix; i++) script.Add((Op.Both, a0 + i, b0 + i));
        var middle = Myers(a, b, a0 + prefix, a1 - suffix, b0 + prefix, b1 - suffix, same);
        if (middle is null)
        {
            for (var i = a0 + prefix; i < a1 - suffix; i++) script.Add((Op.OnlyA, i, -1));
            for (var j = b0 + prefix; j < b1 - suffix; j++) script.Add((Op.OnlyB, -1, j));
        }
        else script.AddRange(middle);
        for (var s = suffix; s > 0; s--) script.Add((Op.Both, a1 - s, b1 - s));
        return script;
    }

    // Myers' O(ND) shortest edit script over a[a0..a1) and b[b0..b1); keeps each round's furthest-reaching
    // diagonals (O(D^2) memory) to walk back; null when more than MaxEdits edits are needed.
    private static List<(Op, int, int)>? Myers(List<Step> a, List<Step> b, int a0, int a1, int b0, int b1, Func<Step, Step, bool> same)
    {
        int n = a1 - a0, m = b1 - b0, max = Math.Min(n + m, MaxEdits);
        var v = new int[2 * max + 3];
        var off = max + 1;
        var rounds = new List<int[]>();
        var found = -1;
        for (var d = 0; d <= max && found < 0; d++)
        {
            for (var k = -d; k <= d; k += 2)
            {
                var x = k == -d || (k != d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
                var y = x - k;
                while (x < n && y < m && same(a[a0 + x], b[b0 + y])) { x++; y++; }
                v[off + k] = x;
                if (x >= n && y >= m) found = d;
            }
            rounds.Add(v[(off - d)..(off + d + 1)]);
        }
        if (found < 0) return null;

        var script = new List<(Op, int, int)>();
        int cx = n, cy = m;
        for (var d = found; d > 0; d--)
        {
            var prev = rounds[d - 1];
            var k = cx - cy;
            var down = k == -d || (k != d && prev[k - 1 + d - 1] < prev[k + 1 + d - 1]);
            var pk = down ? k + 1 : k - 1;
            var px = prev[pk + d - 1];
            var py = px - pk;
            var sx = down ? px : px + 1;
            while (cx > sx) { script.Add((Op.Both, a0 + cx - 1, b0 + cy - 1)); cx--; cy--; }
            script.Add(down ? (Op.OnlyB, -1, b0 + py) : (Op.OnlyA, a0 + px, -1));
            cx = px;
            cy = py;
        }
        while (cx > 0) { script.Add((Op.Both, a0 + cx - 1, b0 + cy - 1)); cx--; cy--; }
        script.Reverse();
        return script;
    }


    private sealed class Step(int first, string region, string? claimant, string space, TraceAccess access, ulong? address, int size,
        ulong? value, ExitReason reason)
    {
        public int First { get; } = first;
        public string Region { get; } = region;

        /// <summary>The region name accesses are matched by: MSI regions under one name.</summary>
        public string Key { get; } = region == "apic-msi" ? MsiRegion : region;

        /// <summary>For an access a region refused by size: that region's name.</summary>
        public string? Claimant { get; } = claimant;
        public string Space { get; } = space;
        public TraceAccess Access { get; } = access;
        public ulong? Address { get; } = address;
        public int Size { get; } = size;
        public ulong? Value { get; } = value;
        public ExitReason Reason { get; } = reason;
        public int Count { get; set; } = 1;

        /// <summary>The function a configuration access reached (from its record).</summary>
        public PciAddress? Function { get; set; }

        /// <summary>The function a CONFIG_ADDRESS write selected.</summary>
        public PciAddress? Selects { get; set; }

        /// <summary>The trace line of an unreadable record.</summary>
        public ulong Line { get; init; }

        /// <summary>The register of <see cref="Function"/> or <see cref="Selects"/>.</summary>
        public int Register { get; set; }

        // Which function and register a configuration access reaches (or a CONFIG_ADDRESS write selects) is part of
        // what the access is, not data: pairing a read of 00:01.0 with one of 00:02.0 would hide the structure of a
        // bus scan.
        public static bool SameAccess(Step x, Step y)
        {
            if (x.Key != y.Key || x.Space != y.Space || x.Key == UnreadableRegion) return false;
            if (x.Access == TraceAccess.None || y.Access == TraceAccess.None) return x.Access == y.Access;
            return x.Access == y.Access && x.Address == y.Address && x.Size == y.Size && x.Claimant == y.Claimant
                && x.Function == y.Function && x.Selects == y.Selects && x.Register == y.Register;
        }

        // Reads pair first with reads that returned the same value (and as many times, for a single read), so that a
        // value read on one side only shows where it was read.
        public static bool SameAccessAndValue(Step x, Step y) =>
            SameAccess(x, y) && (!x.Access.IsRead() || x.Value is null || y.Value is null || x.Value == y.Value);

        public bool CanAbsorb(Step next) => Access.IsRead() && SameAccess(this, next) && next.Value == Value;

        public AlignedAccess ToAccess() => new(First, Count, Claimant is null ? Region : $"{Region} {Claimant}", Space, Access, Address, Size, Value,
            Value is { } v ? $"0x{v:x}" : "");
    }
}
