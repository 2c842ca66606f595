namespace KvmLab.Tests.Qemu;

/// <summary>Tiny 64 KiB firmware images, hand-encoded, that QEMU runs from its reset vector (F000:FFF0, real mode).</summary>
internal static class BiosImages
{
    public const int Size = 0x10000;

    /// <summary>
    /// Writes "hi\n" to COM1, polling LSR (0x3fd) for THR-empty (bit 5) before each byte; reads PCI config dword 0 of
    /// 00:00.0 and of 00:02.0 through 0xcf8/0xcfc; writes 0x21 to isa-debug-exit (status (0x21 &lt;&lt; 1) | 1 = 67).
    /// </summary>
    public static byte[] Hello()
    {
        byte[] code =
        [
            0xFA,                               // 0000 cli
            0x31, 0xC0,                         // 0001 xor ax, ax
            0x8E, 0xD0,                         // 0003 mov ss, ax
            0xBC, 0xF0, 0x7F,                   // 0005 mov sp, 0x7ff0
            0xBB, 0x4C, 0x00,                   // 0008 mov bx, message
            0x2E, 0x8A, 0x07,                   // 000b next: mov al, cs:[bx]
            0x84, 0xC0,                         // 000e test al, al
            0x74, 0x13,                         // 0010 jz done
            0x88, 0xC4,                         // 0012 mov ah, al
            0xBA, 0xFD, 0x03,                   // 0014 mov dx, 0x3fd (LSR)
            0xEC,                               // 0017 poll: in al, dx
            0xA8, 0x20,                         // 0018 test al, 0x20 (THR empty)
            0x74, 0xFB,                         // 001a jz poll
            0xBA, 0xF8, 0x03,                   // 001c mov dx, 0x3f8 (THR)
            0x88, 0xE0,                         // 001f mov al, ah
            0xEE,                               // 0021 out dx, al
            0x43,                               // 0022 inc bx
            0xEB, 0xE6,                         // 0023 jmp next
            0x66, 0xB8, 0x00, 0x00, 0x00, 0x80, // 0025 done: mov eax, 0x80000000 (00:00.0 reg 0)
            0xBA, 0xF8, 0x0C,                   // 002b mov dx, 0xcf8
            0x66, 0xEF,                         // 002e out dx, eax
            0xBA, 0xFC, 0x0C,                   // 0030 mov dx, 0xcfc
            0x66, 0xED,                         // 0033 in eax, dx
            0x66, 0xB8, 0x00, 0x10, 0x00, 0x80, // 0035 mov eax, 0x80001000 (00:02.0 reg 0)
            0xBA, 0xF8, 0x0C,                   // 003b mov dx, 0xcf8
            0x66, 0xEF,                         // 003e out dx, eax
            0xBA, 0xFC, 0x0C,                   // 0040 mov dx, 0xcfc
            0x66, 0xED,                         // 0043 in eax, dx
            0xBA, 0x01, 0x05,                   // 0045 mov dx, 0x501
            0xB0, 0x21,                         // 0048 mov al, 0x21
            0xEE,                               // 004a out dx, al
            0xF4,                               // 004b hlt
            (byte)'h', (byte)'i', (byte)'\n', 0 // 004c message
        ];
        return WithResetVector(code);
    }

    /// <summary>Spins forever (<c>jmp $</c>) without touching any device.</summary>
    public static byte[] Spin() => WithResetVector([0xEB, 0xFE]);

    /// <summary>Places <paramref name="code"/> at F000:0000 and a far jump to it at the reset vector F000:FFF0.</summary>
    private static byte[] WithResetVector(byte[] code)
    {
        var image = new byte[Size];
        code.CopyTo(image, 0);
        byte[] jumpToStart = [0xEA, 0x00, 0x00, 0x00, 0xF0]; // jmp far F000:0000
        jumpToStart.CopyTo(image, 0xFFF0);
        return image;
    }
}
