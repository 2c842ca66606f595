using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace KvmLab.Tracing;

/// <summary>
/// KvmLab's binary trace file (*.kvmtrace): the records exactly as the run loop stores them, so that a run of any
/// length can be streamed to disk in slices with memory bounded by one slice (<see cref="TraceFileWriter.Drain"/>),
/// and converted afterwards to CSV, JSON or Perfetto (<see cref="Convert"/>).
/// <para>
/// Layout (little-endian): the magic "KVMLTRC1", the record size in bytes (int32, <see cref="ExitRecord"/>'s size
/// when written: a reader refuses any other), the trace name; then blocks, each a tag byte: 1 = a source (device,
/// region, address space, register count and names, as length-prefixed UTF-8 strings; sources are numbered in the
/// order they appear, as <see cref="ExitRecord.Source"/> refers to them), 2 = records (int32 count, then count
/// raw records).
/// </para>
/// </summary>
internal static class TraceFile
{
    internal static readonly byte[] Magic = "KVMLTRC1"u8.ToArray();
    internal const byte SourceBlock = 1;
    internal const byte RecordBlock = 2;

    /// <summary>The bytes one record takes in the file.</summary>
    public static int RecordSize => Unsafe.SizeOf<ExitRecord>();

    /// <summary>Reads a whole trace file into memory (48 bytes per record).</summary>
    /// <exception cref="InvalidDataException">Not a KvmLab trace file, a different record size, or a truncated file.</exception>
    public static ExitTrace Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var magic = reader.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException($"{path} is not a KvmLab trace file (no {Encoding.ASCII.GetString(Magic)} header)");
        var size = reader.ReadInt32();
        if (size != RecordSize)
            throw new InvalidDataException($"{path} holds {size}-byte records; this KvmLab reads {RecordSize}-byte records");
        var trace = new ExitTrace(reader.ReadString());
        var buffer = new ExitRecord[4096];
        try
        {
            int tag;
            while ((tag = stream.ReadByte()) >= 0)
            {
                if (tag == SourceBlock)
                {
                    var device = reader.ReadString();
                    var region = reader.ReadString();
                    var space = reader.ReadString();
                    var registers = new string[reader.ReadInt32()];
                    for (var i = 0; i < registers.Length; i++) registers[i] = reader.ReadString();
                    trace.AddSource(new TraceRegion(device, region, space, registers));
                }
                else if (tag == RecordBlock)
                {
                    var count = reader.ReadInt32();
                    while (count > 0)
                    {
                        var n = Math.Min(count, buffer.Length);
                        stream.ReadExactly(MemoryMarshal.AsBytes(buffer.AsSpan(0, n)));
                        for (var i = 0; i < n; i++) trace.Add(buffer[i]);
                        count -= n;
                    }
                }
                else
                {
                    throw new InvalidDataException($"{path}: unknown block tag {tag} at byte 0x{stream.Position - 1:x}");
                }
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path} ends in the middle of a block (a run still writing, or a truncated copy)", e);
        }
        trace.TrimExcess();
        return trace;
    }

    /// <summary>
    /// Converts a trace file to the format <paramref name="outputPath"/>'s name asks for (*.csv, *.json,
    /// *.perfetto.json; see <see cref="TraceExport.FormatFor"/>).
    /// </summary>
    public static void Convert(string tracePath, string outputPath)
    {
        TraceExport.FormatFor(outputPath);
        TraceExport.Save(Load(tracePath), outputPath);
    }
}
