namespace KvmLab.Fuzzing;

/// <summary>
/// One step of the device fuzzer. <see cref="Offset"/> is relative to <see cref="Target"/>; <see cref="Size"/> is the
/// access size (1..8, folded into range); <see cref="Value"/> the data written. For <see cref="DeviceOperationKind.EduDma"/>
/// Offset is the source, Value the destination, <see cref="Extra"/> the count and Size selects the command bits;
/// for <see cref="DeviceOperationKind.MoveBar"/> Size selects the BAR (Size % 3: edu BAR0, pci-testdev BAR0, BAR1), Value is
/// the address written and Extra the command register.
/// </summary>
/// <param name="Kind">What to do.</param>
/// <param name="Target">What the offset is relative to.</param>
/// <param name="Offset">Offset from the target's base.</param>
/// <param name="Size">Access size or selector.</param>
/// <param name="Value">Data or second address.</param>
/// <param name="Extra">Count or command value.</param>
internal readonly record struct DeviceOperation(DeviceOperationKind Kind, DeviceTarget Target, ulong Offset, int Size, ulong Value, ulong Extra = 0)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind} {Target}+0x{Offset:x} size {Size} value 0x{Value:x}" + (Extra != 0 ? $" extra 0x{Extra:x}" : "");
}
