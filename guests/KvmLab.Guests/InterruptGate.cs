using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>What the guests that take a message-signalled interrupt share: the IDT gate and the handler's guard against
/// an interrupt taken between STI and HLT.</summary>
internal static class InterruptGate
{
    /// <summary>Emits: an interrupt gate (type 0xE, present, DPL 0) for <paramref name="vector"/> in the current code
    /// segment, pointing at <paramref name="handler"/>, in the table at <paramref name="idt"/>; then LIDT.</summary>
    public static void Install(GuestAssembler g, Label idt, Label idtr, Label handler, int gateSize, int vector)
    {
        var a = g.Asm;
        g.LoadAddressOf(ebx, idt);
        g.LoadAddressOf(eax, handler);
        a.mov(__word_ptr[g.At(ebx, vector * gateSize)], ax);
        a.mov(cx, cs);
        a.mov(__word_ptr[g.At(ebx, vector * gateSize + 2)], cx);
        a.mov(__word_ptr[g.At(ebx, vector * gateSize + 4)], 0x8E00);
        a.shr(eax, 16);
        a.mov(__word_ptr[g.At(ebx, vector * gateSize + 6)], ax);
        g.LoadAddressOf(ecx, idtr);
        a.mov(__word_ptr[g.At(ecx)], (vector + 1) * gateSize - 1);
        a.mov(__dword_ptr[g.At(ecx, 2)], ebx);
        a.lidt(__[g.At(ecx)]);
    }

    /// <summary>
    /// Emits, in a handler that has pushed four registers: if the interrupt arrived between STI and the HLT at
    /// <paramref name="halt"/>, the frame returns to that HLT, which would then sleep with the wake-up already consumed;
    /// step the return address past it. Hardware SVM and VMX honour STI's shadow and never take this branch; nested SVM
    /// emulated by QEMU 7.2's TCG was seen not to (1 run in 25: halted just past the HLT with IF set and the handler's
    /// line already printed). Clobbers EAX.
    /// </summary>
    public static void StepReturnPastHalt(GuestAssembler g, Label halt)
    {
        var a = g.Asm;
        var returnChecked = a.CreateLabel();
        g.LoadAddressOf(eax, halt);
        if (g.Bitness == 64)
            a.cmp(__qword_ptr[rsp + 32], rax);
        else
            a.cmp(__dword_ptr[esp + 16], eax);
        a.jne(returnChecked);
        if (g.Bitness == 64)
            a.inc(__qword_ptr[rsp + 32]);
        else
            a.inc(__dword_ptr[esp + 16]);
        a.Label(ref returnChecked);
    }
}
