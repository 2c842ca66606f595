namespace KvmLab.Tests.Qemu;

/// <summary>
/// A firmware image that asks QEMU the questions a device model must answer the same way: it copies itself to RAM at
/// 0x8000 (switching to protected mode while executing from the BIOS ROM hangs QEMU under kvm_pvm), enters flat 32-bit
/// protected mode, runs <see cref="Probes"/> and sends every value it reads to COM1 as four little-endian bytes, then
/// writes 0x21 to isa-debug-exit. Instructions are hand-encoded; each helper names the one it emits.
/// </summary>
internal sealed class ProbeImage
{
    private const int CodeBase = 0x8000;
    private const int GdtOffset = 0x3E0;
    private const int ProtectedEntry = 0x32;
    private const uint Poison = 0x55555555;
    private const uint EduBar = 0xE0000000;

    private readonly List<byte> _code = new();
    private int _dumpAt = -1;

    /// <summary>What each 4-byte serial value is, in order.</summary>
    public static readonly string[] Probes =
    [
        "edu ID, 4-byte read",
        "edu ID, 1-byte read into 0x55555555",
        "edu ID, 2-byte read into 0x55555555",
        "edu liveness after writing 0x12345678",
        "edu liveness after a 1-byte write of 0xaa",
        "edu offset 0x10 (no register), 4-byte read",
        "unassigned 0xd0000000, 4-byte read",
        "unassigned 0xd0000000, 1-byte read into 0x55555555",
        "unassigned port 0x1234, 4-byte in",
        "unassigned port 0x1234, 1-byte in into 0x55555555",
        "PCI config 00:1f.0 reg 0 (no device)",
    ];

    public static byte[] Build()
    {
        var p = new ProbeImage();
        p.RealModePrologue();
        p.Emit(0x66, 0xB8, 0x10, 0x00);                 // mov ax, 0x10 (flat data selector)
        p.Emit(0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0);     // mov ds, ax; mov es, ax; mov ss, ax
        p.Emit(0xBC); p.Imm32(0x7FF0);                  // mov esp, 0x7ff0
        var skipDump = p.JumpForward();
        p.DumpRoutine();
        p.PatchJump(skipDump);

        p.ConfigWrite32(0x80001010, EduBar);            // edu BAR0 = 0xe0000000
        p.MovEax(0x80001004); p.MovDx(0xCF8); p.Emit(0xEF);
        p.MovDx(0xCFC); p.Emit(0x66, 0xB8, 0x06, 0x00); p.Emit(0x66, 0xEF); // out dx, ax: command = memory | bus master
        p.Emit(0xBE); p.Imm32(EduBar);                  // mov esi, 0xe0000000

        p.Emit(0x8B, 0x46, 0x00); p.CallDump();         // mov eax, [esi]
        p.MovEax(Poison); p.Emit(0x8A, 0x46, 0x00); p.CallDump();       // mov al, [esi]
        p.MovEax(Poison); p.Emit(0x66, 0x8B, 0x46, 0x00); p.CallDump(); // mov ax, [esi]
        p.Emit(0xC7, 0x46, 0x04); p.Imm32(0x12345678);  // mov dword [esi+4], 0x12345678
        p.Emit(0x8B, 0x46, 0x04); p.CallDump();         // mov eax, [esi+4]
        p.Emit(0xC6, 0x46, 0x04, 0xAA);                 // mov byte [esi+4], 0xaa
        p.Emit(0x8B, 0x46, 0x04); p.CallDump();
        p.Emit(0x8B, 0x46, 0x10); p.CallDump();         // mov eax, [esi+0x10]

        p.Emit(0xBE); p.Imm32(0xD0000000);              // mov esi, 0xd0000000
        p.Emit(0x8B, 0x46, 0x00); p.CallDump();
        p.MovEax(Poison); p.Emit(0x8A, 0x46, 0x00); p.CallDump();

        p.MovDx(0x1234); p.Emit(0xED); p.CallDump();                    // in eax, dx
        p.MovEax(Poison); p.MovDx(0x1234); p.Emit(0xEC); p.CallDump();  // in al, dx

        p.MovEax(0x8000F800); p.MovDx(0xCF8); p.Emit(0xEF); p.MovDx(0xCFC); p.Emit(0xED); p.CallDump();

        p.MovDx(PcLayout.IsaDebugExitPort); p.Emit(0xB0, 0x21, 0xEE);     // mov al, 0x21; out dx, al
        p.Emit(0xF4);                                    // hlt
        return p.Image();
    }

    private void RealModePrologue()
    {
        Emit(0xFA);                                      // cli
        Emit(0xB8, 0x00, 0xF0, 0x8E, 0xD8, 0x31, 0xF6);  // mov ax, 0xf000; mov ds, ax; xor si, si
        Emit(0xB8, 0x00, 0x08, 0x8E, 0xC0, 0x31, 0xFF);  // mov ax, 0x0800; mov es, ax; xor di, di
        Emit(0xB9, 0x00, 0x10, 0xF3, 0xA4);              // mov cx, 0x1000; rep movsb (ROM -> 0x8000)
        Emit(0xEA, 0x19, 0x00, 0x00, 0x08);              // jmp far 0800:0019 (continue in RAM)
        Emit(0x2E, 0x66, 0x0F, 0x01, 0x16);              // 0019 o32 lgdt cs:[gdt descriptor]
        Imm16(GdtOffset + 24);
        Emit(0x0F, 0x20, 0xC0, 0x66, 0x83, 0xC8, 0x01, 0x0F, 0x22, 0xC0); // mov eax, cr0; or eax, 1; mov cr0, eax
        Emit(0x66, 0xEA); Imm32(CodeBase + ProtectedEntry); Imm16(0x08);  // o32 jmp far 0x08:entry
        if (_code.Count != ProtectedEntry) throw new InvalidOperationException("prologue length changed");
    }

    private void DumpRoutine()
    {
        _dumpAt = _code.Count;
        MovDx(PcLayout.Com1Port);
        for (var i = 0; i < 4; i++) Emit(0xEE, 0xC1, 0xC8, 0x08); // out dx, al; ror eax, 8
        Emit(0xC3);                                      // ret
    }

    private void CallDump()
    {
        Emit(0xE8);                                      // call rel32
        Imm32((uint)(_dumpAt - (_code.Count + 4)));
    }

    private int JumpForward()
    {
        Emit(0xE9);                                      // jmp rel32
        Imm32(0);
        return _code.Count;
    }

    private void PatchJump(int after)
    {
        var rel = BitConverter.GetBytes(_code.Count - after);
        for (var i = 0; i < 4; i++) _code[after - 4 + i] = rel[i];
    }

    private void ConfigWrite32(uint address, uint value)
    {
        MovEax(address); MovDx(0xCF8); Emit(0xEF);       // out dx, eax
        MovEax(value); MovDx(0xCFC); Emit(0xEF);
    }

    private void MovEax(uint value) { Emit(0xB8); Imm32(value); }  // mov eax, imm32

    private void MovDx(ushort port) { Emit(0x66, 0xBA); Imm16(port); } // mov dx, imm16

    private void Emit(params byte[] bytes) => _code.AddRange(bytes);

    private void Imm16(int v) => Emit((byte)v, (byte)(v >> 8));

    private void Imm32(uint v) => Emit((byte)v, (byte)(v >> 8), (byte)(v >> 16), (byte)(v >> 24));

    private byte[] Image()
    {
        if (_code.Count > GdtOffset) throw new InvalidOperationException("probe code overlaps the GDT");
        var image = new byte[BiosImages.Size];
        _code.CopyTo(image);
        // Null descriptor, flat 4 GiB code (0x08) and data (0x10), then the lgdt operand (limit, linear base).
        BitConverter.GetBytes(0x00CF9A000000FFFFUL).CopyTo(image, GdtOffset + 8);
        BitConverter.GetBytes(0x00CF92000000FFFFUL).CopyTo(image, GdtOffset + 16);
        BitConverter.GetBytes((ushort)23).CopyTo(image, GdtOffset + 24);
        BitConverter.GetBytes((uint)(CodeBase + GdtOffset)).CopyTo(image, GdtOffset + 26);
        byte[] jumpToStart = [0xEA, 0x00, 0x00, 0x00, 0xF0]; // jmp far F000:0000
        jumpToStart.CopyTo(image, 0xFFF0);
        return image;
    }
}
