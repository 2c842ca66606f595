using System.Text;
using System.Text.Json;

namespace KvmLab.Tracing;

/// <summary>Trace exports: CSV, JSON, and Chrome trace-event JSON (opens in Perfetto and chrome://tracing).</summary>
internal static class TraceExport
{
    /// <summary>Export formats.</summary>
    public enum Format
    {
        /// <summary>One line per record, names resolved.</summary>
        Csv,

        /// <summary>{"name", "sources", "records": [...]}.</summary>
        Json,

        /// <summary>Chrome trace-event format: one complete ("X") event per record.</summary>
        ChromeTrace,
    }

    /// <summary>The format a file name asks for: *.csv, *.perfetto.json / *.trace.json, *.json.</summary>
    public static Format FormatFor(string path)
    {
        var name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".csv", StringComparison.Ordinal)) return Format.Csv;
        if (name.EndsWith(".perfetto.json", StringComparison.Ordinal) || name.EndsWith(".trace.json", StringComparison.Ordinal)) return Format.ChromeTrace;
        if (name.EndsWith(".json", StringComparison.Ordinal)) return Format.Json;
        throw new ArgumentException($"cannot tell the trace format from '{path}': use a name ending in .csv, .json or .perfetto.json", nameof(path));
    }

    /// <summary>Writes <paramref name="trace"/> to <paramref name="path"/> in the format its name asks for.</summary>
    public static void Save(ExitTrace trace, string path)
    {
        var format = FormatFor(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Write(trace, stream, format);
    }

    /// <summary>Writes <paramref name="trace"/> to <paramref name="stream"/>.</summary>
    public static void Write(ExitTrace trace, Stream stream, Format format)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(stream);
        switch (format)
        {
            case Format.Csv: WriteCsv(trace, stream); break;
            case Format.Json: WriteJson(trace, stream); break;
            default: WriteChrome(trace, stream); break;
        }
    }

    /// <summary>CSV column names, in order.</summary>
    public const string CsvHeader = "seq,timestamp_ns,reason,access,address,size,value,rip,device,region,register,flags,run_ns,handler_ns";

    private static void WriteCsv(ExitTrace trace, Stream stream)
    {
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        w.WriteLine(CsvHeader);
        Span<char> buf = stackalloc char[24];
        var seq = 0;
        foreach (ref readonly var r in trace.Records())
        {
            var source = trace.SourceOf(r);
            w.Write(seq++); w.Write(',');
            w.Write(r.TimestampNanos); w.Write(',');
            w.Write(ExitReasonNames.Of(r.Reason)); w.Write(',');
            w.Write(r.Access.Label()); w.Write(',');
            WriteHex(w, buf, r.Address); w.Write(',');
            w.Write(r.Size); w.Write(',');
            WriteHex(w, buf, r.Value); w.Write(',');
            WriteHex(w, buf, r.Rip); w.Write(',');
            w.Write(source?.Device); w.Write(',');
            w.Write(source?.Region); w.Write(',');
            w.Write(source?.RegisterName(r.Register)); w.Write(',');
            if (r.Flags != ExitFlags.None) w.Write(FlagsText(r.Flags));
            w.Write(',');
            w.Write(r.RunNanos); w.Write(',');
            w.Write(r.HandlerNanos);
            w.Write('\n');
        }
    }

    private static void WriteJson(ExitTrace trace, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream);
        Span<char> buf = stackalloc char[24];
        w.WriteStartObject();
        w.WriteString("name", trace.Name);
        w.WriteStartArray("sources");
        foreach (var s in trace.Sources)
        {
            w.WriteStartObject();
            w.WriteString("device", s.Device);
            w.WriteString("region", s.Region);
            w.WriteString("address_space", s.AddressSpace);
            w.WriteStartArray("registers");
            foreach (var reg in s.Registers) w.WriteStringValue(reg);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("records");
        var seq = 0;
        foreach (ref readonly var r in trace.Records())
        {
            var source = trace.SourceOf(r);
            w.WriteStartObject();
            w.WriteNumber("seq", seq++);
            w.WriteNumber("timestamp_ns", r.TimestampNanos);
            w.WriteString("reason", ExitReasonNames.Of(r.Reason));
            if (r.Access != TraceAccess.None)
            {
                w.WriteString("access", r.Access.Label());
                w.WriteString("address", Hex(buf, r.Address));
                w.WriteNumber("size", r.Size);
                w.WriteString("value", Hex(buf, r.Value));
            }
            w.WriteString("rip", Hex(buf, r.Rip));
            if (source is not null)
            {
                w.WriteString("device", source.Device);
                w.WriteString("region", source.Region);
                var reg = source.RegisterName(r.Register);
                if (reg is not null) w.WriteString("register", reg);
            }
            if (r.Flags != ExitFlags.None) w.WriteString("flags", FlagsText(r.Flags));
            w.WriteNumber("run_ns", r.RunNanos);
            w.WriteNumber("handler_ns", r.HandlerNanos);
            w.WriteEndObject();
            if (w.BytesPending > 1 << 16) w.Flush();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteChrome(ExitTrace trace, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream);
        Span<char> buf = stackalloc char[24];
        w.WriteStartObject();
        w.WriteString("displayTimeUnit", "ns");
        w.WriteStartArray("traceEvents");
        w.WriteStartObject();
        w.WriteString("name", "thread_name"); w.WriteString("ph", "M"); w.WriteNumber("pid", 1); w.WriteNumber("tid", 1);
        w.WriteStartObject("args"); w.WriteString("name", $"vCPU 0: {trace.Name}"); w.WriteEndObject();
        w.WriteEndObject();
        foreach (ref readonly var r in trace.Records())
        {
            w.WriteStartObject();
            w.WriteString("name", SliceName(trace, r));
            w.WriteString("cat", SliceCategory(r));
            w.WriteString("ph", "X");
            w.WriteNumber("ts", r.TimestampNanos / 1000.0);
            w.WriteNumber("dur", Math.Max(r.HandlerNanos, 1u) / 1000.0);
            w.WriteNumber("pid", 1);
            w.WriteNumber("tid", 1);
            w.WriteStartObject("args");
            if (r.Access != TraceAccess.None)
            {
                w.WriteString("address", Hex(buf, r.Address));
                w.WriteNumber("size", r.Size);
                w.WriteString("value", Hex(buf, r.Value));
            }
            w.WriteString("rip", Hex(buf, r.Rip));
            w.WriteNumber("guest_ns_before", r.RunNanos);
            if (r.Flags != ExitFlags.None) w.WriteString("flags", FlagsText(r.Flags));
            w.WriteEndObject();
            w.WriteEndObject();
            if (w.BytesPending > 1 << 16) w.Flush();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A record's name in a trace viewer: the device and register it reached ("edu.factorial"), else the exit reason.</summary>
    internal static string SliceName(ExitTrace trace, in ExitRecord r)
    {
        var source = trace.SourceOf(r);
        var reg = source?.RegisterName(r.Register);
        return source is null ? ExitReasonNames.Of(r.Reason) : reg is null ? source.Device : $"{source.Device}.{reg}";
    }

    /// <summary>A record's category in a trace viewer: its access ("pio-write") or, without one, its exit reason.</summary>
    internal static string SliceCategory(in ExitRecord r) => r.Access == TraceAccess.None ? ExitReasonNames.Of(r.Reason) : r.Access.Label();

    private static void WriteHex(StreamWriter w, Span<char> buf, ulong value) => w.Write(Hex(buf, value));

    private static ReadOnlySpan<char> Hex(Span<char> buf, ulong value)
    {
        buf[0] = '0';
        buf[1] = 'x';
        value.TryFormat(buf[2..], out var n, "x");
        return buf[..(n + 2)];
    }

    private static string FlagsText(ExitFlags flags) => flags.ToString().Replace(", ", "|", StringComparison.Ordinal);
}
