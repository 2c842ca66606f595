using KvmLab.Devices;

using KvmLab.Interrupts;

using KvmLab.Memory;

namespace KvmLab.Tests.Devices;

/// <summary>Records every interrupt a device sends.</summary>
public sealed class FakeInterruptSink : IInterruptSink
{
    public List<(int Line, bool Level)> Lines { get; } = [];

    public List<(ulong Address, uint Data)> Messages { get; } = [];

    public Dictionary<int, bool> Level { get; } = [];

    public void SetIrq(int line, bool level)
    {
        Lines.Add((line, level));
        Level[line] = level;
    }

    public void SendMsi(ulong address, uint data) => Messages.Add((address, data));
}

/// <summary>Guest RAM as a plain array that refuses anything not entirely inside it.</summary>
public sealed class FakeGuestMemory(int size) : IGuestPhysicalMemory
{
    public byte[] Ram { get; } = new byte[size];

    public bool TryRead(ulong gpa, Span<byte> dst)
    {
        if (gpa > (ulong)Ram.Length || (ulong)dst.Length > (ulong)Ram.Length - gpa)
        {
            return false;
        }

        Ram.AsSpan((int)gpa, dst.Length).CopyTo(dst);
        return true;
    }

    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> src)
    {
        if (gpa > (ulong)Ram.Length || (ulong)src.Length > (ulong)Ram.Length - gpa)
        {
            return false;
        }

        src.CopyTo(Ram.AsSpan((int)gpa));
        return true;
    }
}

/// <summary>A time source tests advance by hand.</summary>
public sealed class ManualTime
{
    public long Ticks { get; set; }

    public long Now() => Ticks;

    public void Advance(TimeSpan span) => Ticks += (long)(span.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
}
