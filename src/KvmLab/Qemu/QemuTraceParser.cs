using System.Globalization;
using System.Text.RegularExpressions;
using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Qemu;

/// <summary>
/// Reads the text QEMU's "log" trace backend writes for three events and turns it into a <see cref="QemuTrace"/>:
/// <c>kvm_run_exit cpu_index C, reason R</c> (accel/kvm/kvm-all.c, once per KVM_RUN return) and
/// <c>memory_region_ops_read|write cpu C mr P addr A value V size S name 'N'</c> (the memory core, once per access a
/// MemoryRegion's ops served). An access takes the reason of the kvm_run_exit that preceded it on the same vCPU and its
/// direction from the event; IO exits (2) make it a port access, MMIO exits (6) a memory access, and without an exit
/// the region name decides (<see cref="QemuRegions.IsIo"/>).
/// </summary>
/// <remarks>
/// The parser never throws on content: lines that are not these events are counted and skipped, lines that name an
/// event but cannot be read (cut off when QEMU was killed, or two writers interleaved) are counted as malformed and
/// each leaves a record flagged <see cref="ExitFlags.Unreadable"/> where it was, and several events run together on
/// one line are each read. With <c>-d guest_errors</c> QEMU also logs each access its memory core refused
/// ("Invalid read at addr ..."); such a line becomes the access of the exit it came from. Lines may carry <c>-msg timestamp=on</c>'s
/// "pid@seconds.micros:" prefix; then records get timestamps relative to the first event, a run time (previous event
/// of that vCPU to its kvm_run_exit) and a handling time (kvm_run_exit to the access), at the trace's microsecond
/// resolution and including the cost of tracing itself.
/// </remarks>
internal static partial class QemuTraceParser
{
    private const string ExitEvent = "kvm_run_exit";
    private const string OpsEvent = "memory_region_ops_";
    private const string InvalidAccess = "Invalid ";

    /// <summary>Parses trace text held in memory.</summary>
    public static QemuTrace Parse(string text, string name = "qemu")
    {
        ArgumentNullException.ThrowIfNull(text);
        using var reader = new StringReader(text);
        return Parse(reader, name);
    }

    /// <summary>Parses trace text line by line from <paramref name="reader"/>.</summary>
    public static QemuTrace Parse(TextReader reader, string name = "qemu")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var state = new State(new QemuTrace(new ExitTrace(name)));
        while (reader.ReadLine() is { } line)
        {
            state.Result.Lines++;
            ParseLine(line, state);
        }
        foreach (var cpu in state.Pending.Keys.ToList()) state.FlushUnconsumed(cpu);
        return state.Result;
    }

    private static void ParseLine(string line, State state)
    {
        var mentions = CountOccurrences(line, ExitEvent) + CountOccurrences(line, OpsEvent);
        if (line.StartsWith(InvalidAccess, StringComparison.Ordinal))
        {
            if (InvalidAccessPattern().Match(line) is { Success: true } invalid && TryOnInvalidAccess(invalid, state)) return;
            mentions++;
        }
        if (mentions == 0)
        {
            state.Result.IgnoredLines++;
            return;
        }
        var parsed = 0;
        foreach (Match m in EventPattern().Matches(line))
        {
            parsed++;
            var ts = ReadTimestamp(m, state);
            if (m.Groups["reason"].Success)
                state.OnExit(int.Parse(m.Groups["kcpu"].ValueSpan, CultureInfo.InvariantCulture),
                    (ExitReason)uint.Parse(m.Groups["reason"].ValueSpan, CultureInfo.InvariantCulture), ts);
            else if (!TryOnAccess(m, ts, state))
                state.OnMalformed();
        }
        if (parsed < mentions) state.OnMalformed();
    }

    private static bool TryOnAccess(Match m, long? ts, State state)
    {
        if (!ulong.TryParse(m.Groups["addr"].ValueSpan, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var address)
            || !ulong.TryParse(m.Groups["value"].ValueSpan, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value)
            || !byte.TryParse(m.Groups["size"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || size is 0 or > 8)
            return false;
        var cpu = int.Parse(m.Groups["cpu"].ValueSpan, CultureInfo.InvariantCulture);
        var write = m.Groups["dir"].ValueSpan.SequenceEqual("write");
        if (size < 8) value &= (1UL << (size * 8)) - 1;
        state.OnAccess(cpu, write, address, size, value, m.Groups["name"].Value, ts);
        return true;
    }

    // "Invalid read at addr 0xE0000000, size 4, region '(null)', reason: rejected": the memory core refused the
    // access before any ops trace. For an address no region claims (region '(null)') the address is the guest-physical
    // address; for a named region it is the offset into that region.
    private static bool TryOnInvalidAccess(Match m, State state)
    {
        if (!ulong.TryParse(m.Groups["addr"].ValueSpan, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var address)
            || !byte.TryParse(m.Groups["size"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            || size is 0 or > 8)
            return false;
        state.OnInvalidAccess(m.Groups["dir"].ValueSpan.SequenceEqual("write"), address, size, m.Groups["name"].Value);
        return true;
    }

    [GeneratedRegex(@"^Invalid (?<dir>read|write) at addr 0x(?<addr>[0-9a-fA-F]+), size (?<size>\d+), region '(?<name>[^']*)', reason: ",
        RegexOptions.CultureInvariant)]
    private static partial Regex InvalidAccessPattern();

    private static long? ReadTimestamp(Match m, State state)
    {
        if (!m.Groups["sec"].Success) return null;
        if (!long.TryParse(m.Groups["sec"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var sec)
            || !long.TryParse(m.Groups["us"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var us))
            return null;
        var ns = sec * 1_000_000_000 + us * 1_000;
        state.Result.HasTimestamps = true;
        state.Origin ??= ns;
        return ns - state.Origin.Value;
    }

    private static int CountOccurrences(string line, string what)
    {
        var n = 0;
        for (var i = line.IndexOf(what, StringComparison.Ordinal); i >= 0; i = line.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    [GeneratedRegex(@"(?:(?<pid>\d+)@(?<sec>\d+)\.(?<us>\d+):)?(?:kvm_run_exit cpu_index (?<kcpu>\d+), reason (?<reason>\d+)|memory_region_ops_(?<dir>read|write) cpu (?<cpu>-?\d+) mr (?:0x[0-9a-fA-F]+|\(nil\)) addr 0x(?<addr>[0-9a-fA-F]+) value 0x(?<value>[0-9a-fA-F]+) size (?<size>\d+) name '(?<name>[^']*)')",
        RegexOptions.CultureInvariant)]
    private static partial Regex EventPattern();

    private sealed class PendingExit(ExitReason reason, long? timestamp, long runNanos)
    {
        public ExitReason Reason { get; } = reason;
        public long? Timestamp { get; } = timestamp;
        public long RunNanos { get; } = runNanos;
        public bool Consumed { get; set; }
        public string? Region { get; set; }
        public bool Write { get; set; }
    }

    private sealed class State(QemuTrace result)
    {
        public QemuTrace Result { get; } = result;
        public Dictionary<int, PendingExit> Pending { get; } = new();
        public Dictionary<int, long> LastEvent { get; } = new();
        public long? Origin { get; set; }

        public void OnExit(int cpu, ExitReason reason, long? ts)
        {
            Result.KvmExits++;
            FlushUnconsumed(cpu);
            var run = ts is { } now && LastEvent.TryGetValue(cpu, out var last) ? now - last : 0;
            Pending[cpu] = new PendingExit(reason, ts, run);
            if (ts is { } t) LastEvent[cpu] = t;
            // Only port I/O and MMIO exits wait for their access; any other exit is a record at once, in its place
            // among the accesses no vCPU made.
            if (reason is not (ExitReason.Io or ExitReason.Mmio)) FlushUnconsumed(cpu);
        }

        public void OnAccess(int cpu, bool write, ulong address, byte size, ulong value, string region, long? ts)
        {
            Result.Accesses++;
            if (ts is { } t && cpu >= 0) LastEvent[cpu] = t;
            var unassigned = region == QemuRegions.UnassignedIo;
            var source = unassigned ? ExitRecord.None
                : Result.Trace.AddSource(new TraceRegion(QemuRegions.DeviceOf(region), region,
                    QemuRegions.IsIo(region, address) ? "io" : "memory", Array.Empty<string>()));
            var flags = unassigned ? ExitFlags.Unassigned : ExitFlags.None;

            Pending.TryGetValue(cpu, out var exit);
            bool io;
            ExitReason reason;
            long run = 0, handler = 0;
            var stamp = ts ?? 0;
            if (exit is { Consumed: false })
            {
                exit.Consumed = true;
                exit.Region = region;
                exit.Write = write;
                reason = exit.Reason;
                io = reason == ExitReason.Io || (reason != ExitReason.Mmio && QemuRegions.IsIo(region, address));
                run = exit.RunNanos;
                if (ts is { } now && exit.Timestamp is { } at)
                {
                    handler = now - at;
                    stamp = at;
                }
            }
            else if (exit is { Consumed: true, Reason: ExitReason.Io } && exit.Region == region && exit.Write == write)
            {
                Result.Continuations++;
                reason = ExitReason.Io;
                io = true;
                flags |= ExitFlags.Continuation;
            }
            else
            {
                Result.AccessesWithoutExit++;
                reason = ExitReason.Unknown;
                io = QemuRegions.IsIo(region, address);
            }
            var access = io ? (write ? TraceAccess.PioWrite : TraceAccess.PioRead) : (write ? TraceAccess.MmioWrite : TraceAccess.MmioRead);
            var record = new ExitRecord(stamp, reason, access, address, size, value, 0, flags, source, ExitRecord.None, run, handler);
            Result.Trace.Add(ConfigCycle(record, region));
        }

        // QEMU's trace has no event for the configuration cycle its host performs, so the function and register are
        // decoded here, once, as its pci_host and pcie_host do: from the CONFIG_ADDRESS latch for the data port, from
        // the offset into the window for ECAM (the guests program PCIEXBAR to PcLayout.EcamBase).
        private ExitRecord ConfigCycle(in ExitRecord record, string region)
        {
            switch (region)
            {
                case "pci-conf-idx" when record.Access == TraceAccess.PioWrite && record.Size == 4:
                    ConfigAddress = (uint)record.Value;
                    return record;
                case "pci-conf-data" when (ConfigAddress & Pci.PciHost.ConfigAddressEnable) != 0:
                    return record.WithConfigTarget(Pci.PciAddress.FromConfigAddress(ConfigAddress),
                        Pci.PciAddress.Conf1Register(ConfigAddress, record.Address - PcLayout.PciConfigDataPort));
                case "pcie-mmcfg-mmio" when record.Address - PcLayout.EcamBase < PcLayout.EcamSize:
                    var offset = record.Address - PcLayout.EcamBase;
                    return record.WithConfigTarget(Pci.PciAddress.FromEcamOffset(offset), Pci.PciAddress.EcamRegister(offset));
                default:
                    return record;
            }
        }

        private uint ConfigAddress { get; set; }

        // Joins the exit the refused access came from (QEMU logs it on the vCPU thread, between that exit and the
        // next); without one (TCG) the access stands alone.
        public void OnInvalidAccess(bool write, ulong address, byte size, string region)
        {
            Result.InvalidAccesses++;
            // QEMU 7.2's unassigned region has no name: it logs '(null)'.
            var unassigned = region is "(null)" or "unassigned";
            var exit = Pending.Values.FirstOrDefault(e => !e.Consumed);
            var reason = exit?.Reason ?? ExitReason.Unknown;
            if (exit is not null) exit.Consumed = true;
            var io = reason == ExitReason.Io || (reason != ExitReason.Mmio && QemuRegions.IsIo(region, address));
            var source = unassigned ? ExitRecord.None
                : Result.Trace.AddSource(new TraceRegion(QemuRegions.DeviceOf(region), region, io ? "io" : "memory", Array.Empty<string>()));
            var access = io ? (write ? TraceAccess.PioWrite : TraceAccess.PioRead) : (write ? TraceAccess.MmioWrite : TraceAccess.MmioRead);
            Result.Trace.Add(new ExitRecord(exit?.Timestamp ?? 0, reason, access, address, size, 0, 0,
                unassigned ? ExitFlags.Unassigned : ExitFlags.Rejected, source, ExitRecord.None, exit?.RunNanos ?? 0, 0));
        }

        // A record in place of the line, so that the alignment shows where QEMU's trace may be missing an access
        // instead of silently lining up what is left.
        public void OnMalformed()
        {
            Result.MalformedLines++;
            Result.Trace.Add(new ExitRecord(0, ExitReason.Unknown, TraceAccess.None, (ulong)Result.Lines, 0, 0, 0, ExitFlags.Unreadable,
                ExitRecord.None, ExitRecord.None, 0, 0));
        }

        public void FlushUnconsumed(int cpu)
        {
            if (!Pending.Remove(cpu, out var exit) || exit.Consumed) return;
            var flags = ExitFlags.None;
            if (exit.Reason is ExitReason.Io or ExitReason.Mmio)
            {
                Result.ExitsWithoutAccess++;
                flags = ExitFlags.Unassigned;
            }
            Result.Trace.Add(new ExitRecord(exit.Timestamp ?? 0, exit.Reason, TraceAccess.None, 0, 0, 0, 0, flags,
                ExitRecord.None, ExitRecord.None, exit.RunNanos, 0));
        }
    }
}
