using System.Globalization;
using KvmLab.Kvm;
using KvmLab.Pci;
using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// Lines up a KvmLab trace with a QEMU trace of the same guest, access by access, the way <c>diff</c> lines up two
/// files: a shortest edit script (Myers) over the device accesses of both traces, where two accesses correspond when
/// they hit the same region in the same direction at the same address with the same size (and, for PCI configuration
/// accesses, address the same function and register); values are then compared.
/// </summary>
/// <remarks>
/// Runs of consecutive reads of one register (an LSR or busy-bit poll) are first collapsed into one step per side,
/// because how often a guest polls depends on timing, not on the device model; such a pair is
/// <see cref="AlignmentStatus.Collapsed"/> when both polls ended with the same value. Accesses no region served
/// (unassigned addresses, sizes a region rejects) are compared as <see cref="Unclaimed"/>: QEMU's trace shows them only
/// as a kvm_run_exit with no ops line, so their address is unknown on QEMU's side. Known structural differences
/// between the machines (<see cref="KnownDifferences"/>: QEMU's firmware stub, its PIIX3 functions at 00:01.x and the
/// guest's report of them, QEMU's own reset activity, the transmit writes of a line the guest declared random) turn
/// their rows into <see cref="AlignmentStatus.Explained"/> ones with the reason in the note: they stay in the
/// alignment, visible, but do not count as divergences.
/// </remarks>
public static class TraceAligner
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
    public static TraceAlignment Align(Trace kvmLab, Trace qemu, IReadOnlyList<string>? randomLinePrefixes = null)
    {
        ArgumentNullException.ThrowIfNull(kvmLab);
        ArgumentNullException.ThrowIfNull(qemu);
        var a = Collapse(Steps(kvmLab));
        var b = Collapse(Steps(qemu));
        var script = Diff(a, b);
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
        ExplainQemuActivity(script, b, rows);
        ExplainPiixHunks(script, a, b, rows);
        if (randomLinePrefixes is { Count: > 0 }) ExplainRandomLines(script, a, b, rows, randomLinePrefixes);
        return new TraceAlignment(kvmLab.Name, qemu.Name, rows, Counts(a, b));
    }

    // Leading QEMU-only accesses to regions KvmLab does not have happen before the payload's first instruction; later
    // ones to the MSI region with no exit behind them are a device raising its MSI through QEMU's memory API.
    private static void ExplainQemuActivity(List<(Op Op, int I, int J)> script, List<Step> b, AlignedRow[] rows)
    {
        var leading = true;
        for (var n = 0; n < script.Count; n++)
        {
            if (script[n].Op != Op.OnlyB)
            {
                leading = false;
                continue;
            }
            var s = b[script[n].J];
            if (s.Region == Unclaimed || QemuRegions.Shared.Contains(s.Region))
            {
                leading = false;
                continue;
            }
            string? why = leading ? (s.Region == "port92" ? KnownDifferences.FirmwareStub : KnownDifferences.QemuResetActivity)
                : s.Region is "apic-msi" or "kvm-apic-msi" && s.Access.IsWrite() && s.Reason == ExitReason.Unknown ? KnownDifferences.MsiDelivery
                : null;
            if (why is not null) rows[n] = rows[n] with { Status = AlignmentStatus.Explained, Note = why };
        }
    }

    // A hunk (a run of rows that are neither matches nor polls) is explained by QEMU's PIIX3 functions when one of its
    // configuration accesses reached slot 1 of bus 0 and everything else in it is the guest's reaction: further
    // accesses to slot 1 and serial output. Otherwise only its accesses to slot 1 are.
    private static void ExplainPiixHunks(List<(Op Op, int I, int J)> script, List<Step> a, List<Step> b, AlignedRow[] rows)
    {
        var start = 0;
        while (start < rows.Length)
        {
            if (!TraceAlignment.IsDivergence(rows[start].Status))
            {
                start++;
                continue;
            }
            var end = start;
            while (end < rows.Length && TraceAlignment.IsDivergence(rows[end].Status)) end++;
            var steps = Enumerable.Range(start, end - start).SelectMany(n => StepsOf(script[n], a, b)).ToList();
            if (steps.Any(IsPiixConfig) && steps.All(s => IsPiixConfig(s) || s.Region == "serial"))
            {
                uint? function = null;
                for (var n = start; n < end; n++)
                {
                    var config = StepsOf(script[n], a, b).FirstOrDefault(IsPiixConfig);
                    if (config is not null) function = config.ConfigAddress;
                    var note = config is not null ? rows[n].Note
                        : Join(rows[n].Note, function is { } f ? $"the guest reporting {Bdf(f)}, {PiixFunctionName(f)}" : KnownDifferences.PiixReport);
                    rows[n] = rows[n] with { Status = AlignmentStatus.Explained, Note = note };
                }
            }
            else
            {
                // Something else diverged here too: the accesses to slot 1 are still structural, the rest is not.
                for (var n = start; n < end; n++)
                    if (StepsOf(script[n], a, b).All(IsPiixConfig)) rows[n] = rows[n] with { Status = AlignmentStatus.Explained };
            }
            start = end;
        }
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

    // The steps that transmitted the bytes (and the newline) of lines starting with one of the prefixes, found in the
    // text the transmit writes themselves carry.
    private static HashSet<int> RandomLineSteps(List<Step> steps, IReadOnlyList<string> prefixes)
    {
        var transmit = new List<int>();
        for (var i = 0; i < steps.Count; i++)
            if (steps[i] is { Region: "serial", Access: TraceAccess.PioWrite, Address: PcLayout.Com1Port })
                transmit.Add(i);
        var text = new string(transmit.Select(i => (char)(byte)(steps[i].Runs[0].Value ?? 0)).ToArray());
        var random = new HashSet<int>();
        var start = 0;
        while (start < text.Length)
        {
            var nl = text.IndexOf('\n', start);
            var end = nl < 0 ? text.Length : nl + 1;
            if (prefixes.Any(p => p.Length > 0 && string.CompareOrdinal(text, start, p, 0, p.Length) == 0))
                for (var k = start; k < end; k++) random.Add(transmit[k]);
            start = end;
        }
        return random;
    }

    private static IEnumerable<Step> StepsOf((Op Op, int I, int J) entry, List<Step> a, List<Step> b)
    {
        if (entry.I >= 0) yield return a[entry.I];
        if (entry.J >= 0) yield return b[entry.J];
    }

    private static string Bdf(uint ca) => PciAddress.FromConfigAddress(ca).ToString();

    private static string PiixFunctionName(uint configAddress) => PciAddress.FromConfigAddress(configAddress).Function switch
    {
        0 => "QEMU's PIIX3 ISA bridge (8086:7000)",
        1 => "QEMU's PIIX3 IDE controller (8086:7010)",
        3 => "QEMU's PIIX4 ACPI/power management function (8086:7113)",
        _ => "a slot-1 function of QEMU's pc machine",
    };

    private static bool IsPiixConfig(Step s) =>
        s.Region is "pci-conf-idx" or "pci-conf-data" && s.ConfigAddress is { } ca && (ca & PciHost.ConfigAddressEnable) != 0 && IsFunctionOnBus0(ca, 1);

    private static AlignedRow Pair(Step k, Step q)
    {
        var note = ConfigNote(k.ConfigAddress ?? q.ConfigAddress);
        if (k.Region == Unclaimed && (k.Access == TraceAccess.None || q.Access == TraceAccess.None))
            return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.Match, Join(note,
                "no region served it; QEMU traces such an access only as a kvm_run_exit (no ops line), so its address and value are not in QEMU's trace"));

        var kLast = k.Runs[^1].Value;
        var qLast = q.Runs[^1].Value;
        if (kLast != qLast)
            return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.ValueMismatch, Join(note, MismatchNote(k, q)));
        if (k.Count == 1 && q.Count == 1) return new AlignedRow(k.ToAccess(), q.ToAccess(), AlignmentStatus.Match, note);
        var same = k.Count == q.Count && k.Runs.SequenceEqual(q.Runs);
        return new AlignedRow(k.ToAccess(), q.ToAccess(), same ? AlignmentStatus.Match : AlignmentStatus.Collapsed,
            Join(note, same ? $"{k.Count} identical reads on both sides" : $"poll: KvmLab read {k.Count}x, QEMU {q.Count}x; both ended with 0x{kLast:x}"));
    }

    private static string MismatchNote(Step k, Step q)
    {
        if (k.Region != "pci-conf-data" || (k.ConfigAddress ?? q.ConfigAddress) is not { } ca) return "";
        var reg = ca & 0xFC;
        if (IsFunctionOnBus0(ca, 1)) return KnownDifferences.PiixFunctions;
        if (IsFunctionOnBus0(ca, 0) && reg < 0x10) return "host bridge identity differs: QEMU's pc host bridge is the i440FX (8086:1237)";
        if (reg is >= 0x10 and <= 0x24) return KnownDifferences.BarAssignment;
        return "";
    }

    private static bool IsFunctionOnBus0(uint configAddress, int slot) =>
        PciAddress.FromConfigAddress(configAddress) is { Bus: 0 } function && function.Device == slot;

    private static string OnlyNote(Step s, bool qemuSide)
    {
        var note = ConfigNote(s.ConfigAddress);
        if (s.ConfigAddress is { } ca && IsFunctionOnBus0(ca, 1)) note = Join(note, KnownDifferences.PiixFunctions);
        if (qemuSide && s.Region != Unclaimed && !QemuRegions.Shared.Contains(s.Region))
            note = Join(note, $"'{s.Region}' belongs to QEMU's pc machine ({QemuRegions.DeviceOf(s.Region)}); KvmLab does not model it");
        if (qemuSide && s.Reason == ExitReason.Unknown && s.Region != Unclaimed)
            note = Join(note, "no kvm_run_exit precedes it: QEMU's own activity (or a TCG run), not a guest exit");
        return note;
    }

    private static string ConfigNote(uint? configAddress)
    {
        if (configAddress is not { } ca) return "";
        if ((ca & PciHost.ConfigAddressEnable) == 0) return "CONFIG_ADDRESS enable bit clear";
        return string.Create(CultureInfo.InvariantCulture, $"{Bdf(ca)} reg 0x{ca & 0xFC:x2}");
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

    private static List<Step> Steps(Trace trace)
    {
        var steps = new List<Step>();
        uint? configAddress = null;
        for (var i = 0; i < trace.Count; i++)
        {
            var r = trace[i];
            if (r.Access == TraceAccess.None)
            {
                if (r.Flags.HasFlag(ExitFlags.Unassigned) && r.Reason is ExitReason.Io or ExitReason.Mmio)
                    steps.Add(new Step(i, Unclaimed, r.Reason == ExitReason.Io ? "io" : "memory", TraceAccess.None, null, 0, null, r.Reason, null));
                continue;
            }
            var source = trace.SourceOf(r);
            var unclaimed = source is null || (r.Flags & (ExitFlags.Unassigned | ExitFlags.Rejected)) != 0;
            var region = unclaimed ? Unclaimed : source!.Region;
            var selectsConfig = region == "pci-conf-idx" && r.Access.IsWrite() && r.Size == 4;
            if (selectsConfig) configAddress = (uint)r.Value;
            steps.Add(new Step(i, region, r.Access.IsPio() ? "io" : "memory", r.Access, r.Address, r.Size, r.Value, r.Reason,
                region == "pci-conf-data" || selectsConfig ? configAddress : null));
        }
        return steps;
    }

    private static List<Step> Collapse(List<Step> steps)
    {
        var result = new List<Step>();
        foreach (var s in steps)
        {
            if (result.Count > 0 && result[^1].CanAbsorb(s)) result[^1].Absorb(s);
            else result.Add(s);
        }
        return result;
    }

    private enum Op { Both, OnlyA, OnlyB }

    private static List<(Op Op, int I, int J)> Diff(List<Step> a, List<Step> b)
    {
        var prefix = 0;
        while (prefix < a.Count && prefix < b.Count && a[prefix].Corresponds(b[prefix])) prefix++;
        var suffix = 0;
        while (suffix < a.Count - prefix && suffix < b.Count - prefix && a[a.Count - 1 - suffix].Corresponds(b[b.Count - 1 - suffix])) suffix++;

        var script = new List<(Op, int, int)>();
        for (var i = 0; i < prefix; i++) script.Add((Op.Both, i, i));
        var middle = Myers(a, b, prefix, a.Count - suffix, prefix, b.Count - suffix);
        if (middle is null)
        {
            for (var i = prefix; i < a.Count - suffix; i++) script.Add((Op.OnlyA, i, -1));
            for (var j = prefix; j < b.Count - suffix; j++) script.Add((Op.OnlyB, -1, j));
        }
        else script.AddRange(middle);
        for (var s = suffix; s > 0; s--) script.Add((Op.Both, a.Count - s, b.Count - s));
        return script;
    }

    // Myers' O(ND) shortest edit script over a[a0..a1) and b[b0..b1); keeps each round's furthest-reaching
    // diagonals (O(D^2) memory) to walk back; null when more than MaxEdits edits are needed.
    private static List<(Op, int, int)>? Myers(List<Step> a, List<Step> b, int a0, int a1, int b0, int b1)
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
                while (x < n && y < m && a[a0 + x].Corresponds(b[b0 + y])) { x++; y++; }
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

    private sealed class Step(int first, string region, string space, TraceAccess access, ulong? address, int size,
        ulong? value, ExitReason reason, uint? configAddress)
    {
        public int First { get; } = first;
        public string Region { get; } = region;
        public string Space { get; } = space;
        public TraceAccess Access { get; } = access;
        public ulong? Address { get; } = address;
        public int Size { get; } = size;
        public ExitReason Reason { get; } = reason;
        public uint? ConfigAddress { get; } = configAddress;
        public int Count { get; private set; } = 1;
        public List<(ulong? Value, int N)> Runs { get; } = [(value, 1)];

        public bool Corresponds(Step other)
        {
            if (Region != other.Region || Space != other.Space) return false;
            if (Access == TraceAccess.None || other.Access == TraceAccess.None) return Region == Unclaimed;
            // Which function and register a configuration access addresses is part of what the access is, not data:
            // pairing a read of 00:01.0 with one of 00:02.0 would hide the structure of a bus scan.
            return Access == other.Access && Address == other.Address && Size == other.Size && ConfigAddress == other.ConfigAddress;
        }

        public bool CanAbsorb(Step next) => Access.IsRead() && next.Access == Access && next.Region == Region
            && next.Address == Address && next.Size == Size;

        public void Absorb(Step next)
        {
            Count++;
            var v = next.Runs[0].Value;
            if (Runs[^1].Value == v) Runs[^1] = (v, Runs[^1].N + 1);
            else Runs.Add((v, 1));
        }

        public AlignedAccess ToAccess() => new(First, Count, Region, Space, Access, Address, Size, Runs[^1].Value,
            string.Join(", ", Runs.Where(r => r.Value is not null).Select(r => r.N == 1 ? $"0x{r.Value:x}" : $"0x{r.Value:x} x{r.N}")));
    }
}
