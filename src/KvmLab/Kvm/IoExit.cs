namespace KvmLab.Kvm;

/// <summary>
/// A port access the VMM must perform (KVM_EXIT_IO). <see cref="Count"/> &gt; 1 for string I/O (INS/OUTS with REP):
/// the data is <c>Count * Size</c> bytes. For OUT the bytes are in <see cref="Vcpu.WriteData"/> (and the first
/// element in <see cref="Value"/>); for IN the VMM answers with <see cref="Vcpu.CompleteRead(ulong)"/>.
/// </summary>
/// <param name="Direction">In or Out.</param>
/// <param name="Port">The I/O port.</param>
/// <param name="Size">Bytes per element: 1, 2 or 4.</param>
/// <param name="Count">Number of elements (1 unless string I/O).</param>
/// <param name="DataOffset">Offset of the data from the start of kvm_run (<c>io.data_offset</c>).</param>
/// <param name="Value">For OUT, the first element written (zero-extended); 0 for IN.</param>
public readonly record struct IoExit(IoDirection Direction, ushort Port, byte Size, uint Count, ulong DataOffset, ulong Value)
{
    /// <summary>True for OUT/OUTS.</summary>
    public bool IsWrite => Direction == IoDirection.Out;

    /// <inheritdoc/>
    public override string ToString()
    {
        string op = (Direction == IoDirection.Out ? "OUT" : "IN") + (Count > 1 ? "S" : "");
        string value = Direction == IoDirection.Out ? $" value 0x{Value:X}" : "";
        string count = Count > 1 ? $" count {Count}" : "";
        return $"{op} port 0x{Port:X} size {Size}{count}{value}";
    }
}

/// <summary>The direction of a port access (<c>KVM_EXIT_IO_IN</c> = 0, <c>KVM_EXIT_IO_OUT</c> = 1).</summary>
public enum IoDirection : byte
{
    /// <summary>IN/INS: the guest reads, the VMM supplies the data.</summary>
    In = 0,

    /// <summary>OUT/OUTS: the guest writes.</summary>
    Out = 1,
}
