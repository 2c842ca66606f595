using KvmLab.Memory;

namespace KvmLab.Tests.Memory;

/// <summary>A tiny RAM-like device that records the calls it receives.</summary>
public sealed class ByteStore(int size, AccessSizes valid, AccessSizes impl) : IMemoryRegionOps
{
    public ByteStore(int size)
        : this(size, AccessSizes.Default, AccessSizes.Default)
    {
    }

    public byte[] Bytes { get; } = new byte[size];

    public List<(bool Write, ulong Offset, int Size)> Calls { get; } = [];

    public AccessSizes Valid => valid;

    public AccessSizes Impl => impl;

    public bool Record { get; set; } = true;

    public ulong Read(ulong offset, int size)
    {
        if (Record)
        {
            Calls.Add((false, offset, size));
        }

        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            v |= (ulong)Bytes[(int)offset + i] << (8 * i);
        }

        return v;
    }

    public void Write(ulong offset, int size, ulong value)
    {
        if (Record)
        {
            Calls.Add((true, offset, size));
        }

        for (int i = 0; i < size; i++)
        {
            Bytes[(int)offset + i] = (byte)(value >> (8 * i));
        }
    }
}
