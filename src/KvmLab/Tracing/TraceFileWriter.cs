using System.Runtime.InteropServices;
using System.Text;

namespace KvmLab.Tracing;

/// <summary>
/// Streams a run's records into a <see cref="TraceFile"/>: run a slice of exits, <see cref="Drain"/> the trace
/// (its records go to the file and it is cleared, keeping its storage), run the next slice. Memory stays at one
/// slice's records however long the run is.
/// </summary>
internal sealed class TraceFileWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly BinaryWriter _writer;
    private int _sourcesWritten;

    /// <summary>Creates (or overwrites) <paramref name="path"/> and writes the header.</summary>
    public TraceFileWriter(string path, string traceName)
    {
        ArgumentNullException.ThrowIfNull(traceName);
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        _writer = new BinaryWriter(_stream, Encoding.UTF8);
        _writer.Write(TraceFile.Magic);
        _writer.Write(TraceFile.RecordSize);
        _writer.Write(traceName);
    }

    /// <summary>Records written so far.</summary>
    public long RecordsWritten { get; private set; }

    /// <summary>Bytes written so far (header and blocks).</summary>
    public long BytesWritten => _stream.Position;

    /// <summary>
    /// Writes the sources <paramref name="trace"/> gained since the last call and all its records, then clears it
    /// (<see cref="ExitTrace.Clear"/>: the storage stays for the next slice). Allocates nothing once sources are written.
    /// </summary>
    public void Drain(ExitTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var sources = trace.Sources;
        for (; _sourcesWritten < sources.Count; _sourcesWritten++)
        {
            var s = sources[_sourcesWritten];
            _writer.Write(TraceFile.SourceBlock);
            _writer.Write(s.Device);
            _writer.Write(s.Region);
            _writer.Write(s.AddressSpace);
            _writer.Write(s.Registers.Count);
            foreach (var name in s.Registers) _writer.Write(name);
        }
        var count = trace.Count;
        if (count > 0)
        {
            _writer.Write(TraceFile.RecordBlock);
            _writer.Write(count);
            _writer.Flush();
            foreach (ref readonly var record in trace.Records())
                _stream.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<ExitRecord>(in record)));
            RecordsWritten += count;
        }
        trace.Clear();
    }

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose()
    {
        _writer.Dispose();
        _stream.Dispose();
    }
}
