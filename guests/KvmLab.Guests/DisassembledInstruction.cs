namespace KvmLab.Guests;

/// <summary>One decoded instruction.</summary>
/// <param name="Ip">Its address (the instruction pointer value, segment offset in real mode).</param>
/// <param name="Bytes">Its encoding.</param>
/// <param name="Text">NASM syntax, e.g. <c>out dx,al</c>; <c>(bad)</c> for bytes that do not decode.</param>
public sealed record DisassembledInstruction(ulong Ip, byte[] Bytes, string Text)
{
    /// <inheritdoc />
    public override string ToString() => $"0x{Ip:X}  {Convert.ToHexString(Bytes).ToLowerInvariant(),-20}  {Text}";
}
