using Iced.Intel;
using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

// Printing over COM1: the Print helpers and the routines they call, emitted once per image.
public sealed partial class GuestAssembler
{
    /// <summary>Prints <paramref name="text"/> over COM1, polling the line-status register before each byte.</summary>
    public void Print(string text)
    {
        Push(Gp.Si);
        LoadAddressOf(esi, String(text));
        Asm.call(RoutineLabel(Routine.PutString));
        Pop(Gp.Si);
    }

    /// <summary>Prints <paramref name="text"/> followed by a newline.</summary>
    public void PrintLine(string text) => Print(text + "\n");

    /// <summary>Prints A (EAX, or RAX in long mode) as <paramref name="digits"/> hex digits, without a prefix.</summary>
    public void PrintHex(int digits = 8)
    {
        var max = Bitness == 64 ? 16 : 8;
        if (digits < 1 || digits > max)
            throw new ArgumentOutOfRangeException(nameof(digits), $"1..{max} hex digits in {Bitness}-bit code.");
        Push(Gp.C);
        Asm.mov(ecx, digits);
        Asm.call(RoutineLabel(Routine.PutHex));
        Pop(Gp.C);
    }

    /// <summary>Prints A (EAX, or RAX in long mode) as an unsigned decimal number.</summary>
    public void PrintDecimal() => Asm.call(RoutineLabel(Routine.PutDecimal));

    // AL = byte to send. Waiting for THRE is what a real driver does; QEMU's UART is always ready.
    private void EmitPutChar()
    {
        var wait = Asm.CreateLabel();
        Push(Gp.D);
        Push(Gp.A);
        Asm.mov(dx, Com1LineStatusPort);
        Asm.Label(ref wait);
        Asm.@in(al, dx);
        Asm.test(al, LineStatusThre);
        Asm.jz(wait);
        Pop(Gp.A);
        Push(Gp.A);
        Asm.mov(dx, PcLayout.Com1Port);
        Asm.@out(dx, al);
        Pop(Gp.A);
        Pop(Gp.D);
        Asm.ret();
    }

    // (E/R)SI = NUL-terminated string (DS-relative in real mode); SI is advanced, the caller saves it.
    private void EmitPutString()
    {
        var loop = Asm.CreateLabel();
        var done = Asm.CreateLabel();
        Push(Gp.A);
        Asm.Label(ref loop);
        Asm.lodsb();
        Asm.test(al, al);
        Asm.jz(done);
        Asm.call(RoutineLabel(Routine.PutChar));
        Asm.jmp(loop);
        Asm.Label(ref done);
        Pop(Gp.A);
        Asm.ret();
    }

    // A = value, ECX = digit count. Rotate the first wanted nibble to the top, then emit one nibble per rotate.
    private void EmitPutHex()
    {
        var loop = Asm.CreateLabel();
        var digit = Asm.CreateLabel();
        Push(Gp.A);
        Push(Gp.B);
        Push(Gp.C);
        Push(Gp.D);
        Asm.mov(edx, ecx);
        Asm.neg(ecx);
        if (Bitness == 64)
        {
            Asm.lea(ecx, __[rcx * 4 + 64]);
            Asm.mov(rbx, rax);
            Asm.shl(rbx, cl);
        }
        else
        {
            Asm.lea(ecx, __[ecx * 4 + 32]);
            Asm.mov(ebx, eax);
            // A 32-bit shift by 32 would be masked to 0, which is what printing 8 digits wants anyway.
            Asm.shl(ebx, cl);
        }
        Asm.Label(ref loop);
        if (Bitness == 64) Asm.rol(rbx, 4); else Asm.rol(ebx, 4);
        Asm.mov(al, bl);
        Asm.and(al, 0xF);
        Asm.add(al, (byte)'0');
        Asm.cmp(al, (byte)'9');
        Asm.jbe(digit);
        Asm.add(al, 'A' - '9' - 1);
        Asm.Label(ref digit);
        Asm.call(RoutineLabel(Routine.PutChar));
        Asm.dec(edx);
        Asm.jnz(loop);
        Pop(Gp.D);
        Pop(Gp.C);
        Pop(Gp.B);
        Pop(Gp.A);
        Asm.ret();
    }

    // A = value. Digits are pushed least significant first, then popped and printed.
    private void EmitPutDecimal()
    {
        var divide = Asm.CreateLabel();
        var print = Asm.CreateLabel();
        Push(Gp.A);
        Push(Gp.B);
        Push(Gp.C);
        Push(Gp.D);
        Asm.mov(ebx, 10);
        Asm.xor(ecx, ecx);
        Asm.Label(ref divide);
        if (Bitness == 64)
        {
            Asm.xor(edx, edx);
            Asm.div(rbx);
        }
        else
        {
            Asm.xor(edx, edx);
            Asm.div(ebx);
        }
        Push(Gp.D);
        Asm.inc(ecx);
        if (Bitness == 64) Asm.test(rax, rax); else Asm.test(eax, eax);
        Asm.jnz(divide);
        Asm.Label(ref print);
        Pop(Gp.A);
        Asm.add(al, (byte)'0');
        Asm.call(RoutineLabel(Routine.PutChar));
        Asm.dec(ecx);
        Asm.jnz(print);
        Pop(Gp.D);
        Pop(Gp.C);
        Pop(Gp.B);
        Pop(Gp.A);
        Asm.ret();
    }
}
