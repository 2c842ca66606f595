using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>What the guests that take a message-signalled interrupt share: the IDT gate, the local APIC's enable and
/// EOI, the CLI; check; STI; HLT sleep, and the handler's frame with its guard against an interrupt taken between STI
/// and HLT.</summary>
internal static class InterruptGate
{
    /// <summary>Local APIC register offset of the spurious-interrupt vector register (bit 8: APIC software enable).</summary>
    private const int LocalApicSpuriousVector = 0xF0;

    /// <summary>Local APIC register offset of the EOI register.</summary>
    private const int LocalApicEoi = 0xB0;

    /// <summary>The registers a handler saves (<see cref="BeginHandler"/>) and restores (<see cref="EndHandler"/>).</summary>
    private static readonly AssemblerRegister32[] HandlerSaves = [eax, ecx, edx, edi];

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

    /// <summary>Emits: software-enable the local APIC (spurious-vector register |= 0x1FF: enable, spurious vector 0xFF).
    /// Clobbers EAX, EDX, EDI.</summary>
    public static void EnableLocalApic(GuestAssembler g)
    {
        var a = g.Asm;
        g.MmioRead(PcLayout.LocalApicBase + LocalApicSpuriousVector, 4);
        a.or(eax, 0x1FF);
        a.mov(edi, (uint)(PcLayout.LocalApicBase + LocalApicSpuriousVector));
        g.MmioWrite(4);
    }

    /// <summary>
    /// Emits the sleep until the handler has counted an interrupt in the dword at ECX: CLI; check; STI; HLT (bound to
    /// <paramref name="halt"/>, for <see cref="StepReturnPastHalt"/>); again. STI's one-instruction shadow makes
    /// "sti; hlt" atomic: the interrupt cannot slip in between and be lost (the handler's guard copes with a CPU that
    /// lets it in). Returns with interrupts off.
    /// </summary>
    public static void SleepUntilCounted(GuestAssembler g, Label halt)
    {
        var a = g.Asm;
        var sleep = a.CreateLabel();
        var woken = a.CreateLabel();
        a.Label(ref sleep);
        a.cli();
        a.cmp(__dword_ptr[g.At(ecx)], 0);
        a.jne(woken);
        a.sti();
        a.Label(ref halt);
        a.hlt();
        a.jmp(sleep);
        a.Label(ref woken);
    }

    /// <summary>Emits a handler's entry at <paramref name="handler"/>: save EAX, ECX, EDX, EDI, then
    /// <see cref="StepReturnPastHalt"/>.</summary>
    public static void BeginHandler(GuestAssembler g, Label handler, Label halt)
    {
        g.Asm.Label(ref handler);
        foreach (var r in HandlerSaves)
            g.Push(r);
        // Four pushes sit above the return address, as the guard expects.
        StepReturnPastHalt(g, halt);
    }

    /// <summary>
    /// Emits a handler's end: count the interrupt in the dword at <paramref name="interrupts"/>, EOI to the local APIC,
    /// restore what <see cref="BeginHandler"/> saved and return: IRETQ in long mode; in protected mode IRETD with
    /// <paramref name="returnWithIret"/>, else <see cref="ReturnWithoutIret"/>.
    /// </summary>
    public static void EndHandler(GuestAssembler g, Label interrupts, bool returnWithIret)
    {
        var a = g.Asm;
        g.LoadAddressOf(ecx, interrupts);
        a.inc(__dword_ptr[g.At(ecx)]);
        g.MmioWrite(PcLayout.LocalApicBase + LocalApicEoi, 4, 0);
        for (var i = HandlerSaves.Length - 1; i >= 0; i--)
            g.Pop(HandlerSaves[i]);
        if (g.Bitness == 64)
            a.iretq();
        else if (returnWithIret)
            a.iretd();
        else
            ReturnWithoutIret(g);
    }

    // The frame is EIP, CS, EFLAGS (no privilege change, so no SS:ESP). Rearranged into EFLAGS, EIP it is undone by
    // POPFD; RET, which is IRETD minus the CS reload: the handler runs in the code segment it interrupted.
    private static void ReturnWithoutIret(GuestAssembler g)
    {
        var a = g.Asm;
        a.push(eax);
        a.mov(eax, __dword_ptr[esp + 12]);
        a.mov(__dword_ptr[esp + 8], eax);
        a.mov(eax, __dword_ptr[esp + 4]);
        a.mov(__dword_ptr[esp + 12], eax);
        a.pop(eax);
        a.add(esp, 4);
        a.popfd();
        a.ret();
    }
}
