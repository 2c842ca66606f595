using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Charts.Tests;

/// <summary>Hand-written traces with exactly the records a test names.</summary>
internal sealed class TraceBuilder
{
    private long _now;

    public ExitTrace Trace { get; } = new("test");

    public ushort Source(string device, string region, string space, params string[] registers) =>
        Trace.AddSource(new TraceRegion(device, region, space, registers));

    public TraceBuilder Pio(bool write, ulong port, int size, ulong value, ushort source = ExitRecord.None, ushort register = ExitRecord.None) =>
        Add(ExitReason.Io, write ? TraceAccess.PioWrite : TraceAccess.PioRead, port, size, value, source, register);

    public TraceBuilder Mmio(bool write, ulong address, int size, ulong value, ushort source = ExitRecord.None, ushort register = ExitRecord.None) =>
        Add(ExitReason.Mmio, write ? TraceAccess.MmioWrite : TraceAccess.MmioRead, address, size, value, source, register);

    /// <summary>A configuration access whose record carries the function and register the host reached.</summary>
    public TraceBuilder Config(TraceAccess access, ulong address, int size, ulong value, KvmLab.Pci.PciAddress function, int register)
    {
        _now += 7000;
        var reason = access.IsPio() ? ExitReason.Io : ExitReason.Mmio;
        Trace.Add(new ExitRecord(_now, reason, access, address, (byte)size, value, 0x10000, ExitFlags.None, ExitRecord.None, ExitRecord.None, 7000, 1000)
            .WithConfigTarget(function, register));
        return this;
    }

    public TraceBuilder Hlt() => Add(ExitReason.Hlt, TraceAccess.None, 0, 0, 0, ExitRecord.None, ExitRecord.None);

    public TraceBuilder Add(ExitReason reason, TraceAccess access, ulong address, int size, ulong value, ushort source, ushort register,
        long handlerNanos = 1000)
    {
        _now += 7000;
        Trace.Add(new ExitRecord(_now, reason, access, address, (byte)size, value, 0x10000, ExitFlags.None, source, register, 7000, handlerNanos));
        return this;
    }
}
