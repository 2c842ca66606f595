using KvmLab.Loading;

namespace KvmLab.Fuzzing;

/// <summary>
/// Hand-encodes the few x86 instructions the instruction soup is made of, for the operand size of the mode (real mode
/// defaults to 16-bit operands and needs 0x66 for 32-bit; protected and long mode the reverse).
/// </summary>
internal sealed class SoupWriter(CpuMode mode)
{
    private const byte OperandSize = 0x66;
    private readonly List<byte> _bytes = new();

    private bool Is16 => mode == CpuMode.Real;

    public byte[] ToArray() => _bytes.ToArray();

    public void Raw(params ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            _bytes.Add(b);
    }

    /// <summary>mov dx, imm16.</summary>
    public void SetDx(ushort port)
    {
        if (!Is16) Raw(OperandSize);
        Raw(0xBA, (byte)port, (byte)(port >> 8));
    }

    /// <summary>mov eax, imm32.</summary>
    public void SetEax(uint value)
    {
        if (Is16) Raw(OperandSize);
        Raw(0xB8);
        Imm32(value);
    }

    /// <summary>mov ecx, imm32 (rcx zero-extended in long mode).</summary>
    public void SetEcx(uint value)
    {
        if (Is16) Raw(OperandSize);
        Raw(0xB9);
        Imm32(value);
    }

    /// <summary>out dx, al/ax/eax.</summary>
    public void Out(int size) => SizedOp(size, 0xEE, 0xEF);

    /// <summary>in al/ax/eax, dx.</summary>
    public void In(int size) => SizedOp(size, 0xEC, 0xED);

    /// <summary>A conf1 cycle: CONFIG_ADDRESS then a dword to or from CONFIG_DATA.</summary>
    public void ConfigCycle(uint address, uint value, bool write)
    {
        SetDx(PcLayout.PciConfigAddressPort);
        SetEax(address);
        Out(4);
        SetDx(PcLayout.PciConfigDataPort);
        if (write)
        {
            SetEax(value);
            Out(4);
        }
        else
        {
            In(4);
        }
    }

    /// <summary>rep outsb / rep insb with a small count (string I/O: one exit carries several elements).</summary>
    public void StringIo(int count, bool output)
    {
        if (Is16)
            Raw(0xB9, (byte)count, 0);
        else
            SetEcx((uint)count);
        Raw(0xF3, output ? (byte)0x6E : (byte)0x6C);
    }

    /// <summary>Writes to a control register or MSR, or another privileged or CPU-state instruction.</summary>
    public void Control(int which, uint value)
    {
        SetEax(value);
        switch (which)
        {
            case 0: Raw(0x0F, 0x22, 0xC0); break; // mov cr0, eax
            case 1: Raw(0x0F, 0x22, 0xE0); break; // mov cr4, eax
            case 2: SetEcx(value); Raw(0x0F, 0x30); break; // wrmsr
            case 3: SetEcx(value); Raw(0x0F, 0x32); break; // rdmsr
            case 4: Raw(0x0F, 0xA2); break; // cpuid
            default: Raw(0xFB); break; // sti
        }
    }

    /// <summary>A load or store of 1, 2, 4 or (long mode) 8 bytes at [ecx]/[rcx].</summary>
    public void Mmio(uint address, uint value, int sizeIndex, bool write)
    {
        SetEcx(address);
        SetEax(value);
        switch (sizeIndex)
        {
            case 0: Raw(write ? (byte)0x88 : (byte)0x8A, 0x01); break;
            case 1: Raw(OperandSize, write ? (byte)0x89 : (byte)0x8B, 0x01); break;
            case 3 when mode == CpuMode.Long: Raw(0x48, write ? (byte)0x89 : (byte)0x8B, 0x01); break;
            default: Raw(write ? (byte)0x89 : (byte)0x8B, 0x01); break;
        }
    }

    private void SizedOp(int size, byte byteForm, byte wideForm)
    {
        if (size == 1)
        {
            Raw(byteForm);
            return;
        }
        bool needsPrefix = size == 4 ? Is16 : !Is16;
        if (needsPrefix) Raw(OperandSize);
        Raw(wideForm);
    }

    private void Imm32(uint value) => Raw((byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24));
}
