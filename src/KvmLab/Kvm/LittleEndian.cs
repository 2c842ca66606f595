using System.Buffers.Binary;

namespace KvmLab.Kvm;

/// <summary>Access data as x86 puts it in kvm_run and in device registers: little-endian, 1 to 8 bytes.</summary>
internal static class LittleEndian
{
    /// <summary>The value of up to eight bytes, zero-extended.</summary>
    public static ulong Read(ReadOnlySpan<byte> bytes)
    {
        switch (bytes.Length)
        {
            case 1: return bytes[0];
            case 2: return BinaryPrimitives.ReadUInt16LittleEndian(bytes);
            case 4: return BinaryPrimitives.ReadUInt32LittleEndian(bytes);
            case 8: return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        }
        ulong value = 0;
        for (var i = Math.Min(bytes.Length, 8) - 1; i >= 0; i--)
            value = (value << 8) | bytes[i];
        return value;
    }

    /// <summary>Writes the low <c>bytes.Length</c> (at most eight) bytes of <paramref name="value"/>.</summary>
    public static void Write(Span<byte> bytes, ulong value)
    {
        switch (bytes.Length)
        {
            case 1: bytes[0] = (byte)value; return;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value); return;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value); return;
            case 8: BinaryPrimitives.WriteUInt64LittleEndian(bytes, value); return;
        }
        for (var i = 0; i < bytes.Length && i < 8; i++)
            bytes[i] = (byte)(value >> (8 * i));
    }
}
