using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>edu-irq: the factorials again, completion signalled by an MSI into a guest interrupt handler.</summary>
public static class EduIrqGuest
{
    /// <summary>The IDT vector the guest programs into edu's MSI data register.</summary>
    public const byte Vector = 0x40;

    /// <summary>The line the guest prints last on success.</summary>
    public const string FinalLine = "edu-irq: done";

    /// <summary>Highest n whose factorial the guest requests.</summary>
    public const int Count = 12;

    private const byte MsiCapabilityId = 0x05;

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "edu-irq",
        "Factorials on edu with completion signalled by MSI: IDT, local APIC, MSI capability, handler with EOI.",
        """
        Instead of polling the busy bit, the guest sets status bit 7 and sleeps in HLT; edu raises interrupt 0x01 when
        the factorial is ready. The guest uses MSI rather than the legacy INTx pin: under QEMU's pc machine INTA# of
        slot 2 reaches the 8259/IOAPIC only through PIIX3's PIRQ routing registers, which firmware programs and each
        machine wires differently, while an MSI is a plain memory write to 0xFEE00000 that every x86 machine with a
        local APIC delivers the same way. So the guest walks edu's capability list to the MSI capability (ID 0x05),
        writes address 0xFEE00000 (destination APIC 0) and data 0x40 (the vector), sets MSI enable, software-enables
        its local APIC (spurious-vector register, 0xFEE000F0) and installs an IDT gate for vector 0x40.
        Observe: the write of n to 0xE0000008, a HLT exit (or none, if the interrupt is already pending), then the
        handler's MMIO read of 0xE0000024 (interrupt status 0x1), its acknowledge write to 0xE0000064 and the EOI
        write to the local APIC at 0xFEE000B0 (handled in the kernel: no exit with an in-kernel irqchip).
        The sleep is CLI; check the flag; STI; HLT. STI's one-instruction shadow keeps the interrupt out until HLT
        has begun, so the wake-up cannot be lost; should a CPU let it in between anyway, the handler steps a return
        address that points at the HLT past it instead of going back to sleep for good.
        In long mode the handler returns with IRETQ. In protected mode it returns with POPFD; RET instead of IRETD:
        some KVM backends execute the guest deprivileged and hand IRET to KVM's instruction emulator, which emulates
        it in real mode only, so IRETD ends the run with KVM_EXIT_INTERNAL_ERROR (suberror 1, EMULATION). Enabling
        32-bit paging first does not help on such a backend (setting CR0.PG there triple-faults, with PSE and with
        PAE page tables alike). POPFD; RET is what IRETD does when the handler returns to the same code segment at
        the same privilege; Build(CpuMode.Protected, returnWithIret: true) keeps IRETD to show the difference.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        Build);

    /// <summary>Builds edu-irq for protected or long mode (the protected-mode handler returns with POPFD; RET).</summary>
    public static GuestImage Build(CpuMode mode) => Build(mode, returnWithIret: mode == CpuMode.Long);

    /// <summary>Builds edu-irq, choosing how the protected-mode handler returns.</summary>
    /// <param name="mode">Protected or long mode.</param>
    /// <param name="returnWithIret">Return from the interrupt with IRETD (protected mode) rather than POPFD; RET.
    /// Long mode always returns with IRETQ: its frame also holds SS:RSP, which only IRETQ restores in one step.</param>
    public static GuestImage Build(CpuMode mode, bool returnWithIret)
    {
        if (mode == CpuMode.Long && !returnWithIret)
            throw new ArgumentException("In long mode the handler returns with IRETQ.", nameof(returnWithIret));
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var notFound = a.CreateLabel();
        var noMsi = a.CreateLabel();
        var capabilityLoop = a.CreateLabel();
        var foundMsi = a.CreateLabel();
        var address32 = a.CreateLabel();
        var writeData = a.CreateLabel();
        var next = a.CreateLabel();
        var halt = a.CreateLabel();
        var handler = a.CreateLabel();
        var gateSize = mode == CpuMode.Long ? 16 : 8;
        var idt = g.Reserve((Vector + 1) * gateSize);
        var idtr = g.Reserve(10);
        var interrupts = g.Reserve(4);

        EduRegisters.FindAndEnable(g, "edu-irq", notFound);

        // Walk the capability list from the pointer at 0x34 to the MSI capability.
        a.mov(eax, ebp);
        a.add(eax, 0x34);
        g.ConfigRead32(PciAccessMethod.Conf1);
        a.movzx(ecx, al);
        a.Label(ref capabilityLoop);
        a.test(ecx, ecx);
        a.jz(noMsi);
        a.mov(eax, ebp);
        a.add(eax, ecx);
        g.ConfigRead32(PciAccessMethod.Conf1);
        a.cmp(al, MsiCapabilityId);
        a.je(foundMsi);
        a.movzx(ecx, ah);
        a.jmp(capabilityLoop);

        // ECX = capability offset, EAX = its first dword (message control in the upper half).
        a.Label(ref foundMsi);
        a.mov(esi, eax);
        g.Print("edu-irq: MSI capability at 0x");
        a.mov(eax, ecx);
        g.PrintHex(2);
        g.PrintLine("");
        a.lea(edx, __[ecx + ebp]);
        a.lea(eax, __[edx + 4]);
        a.mov(ebx, (uint)PcLayout.LocalApicBase);
        g.ConfigWrite32(PciAccessMethod.Conf1);
        // Message control bit 7: 64-bit address capable, so the data register moves from +8 to +0xC.
        a.test(esi, 1 << 23);
        a.jz(address32);
        a.lea(eax, __[edx + 8]);
        a.xor(ebx, ebx);
        g.ConfigWrite32(PciAccessMethod.Conf1);
        a.lea(eax, __[edx + 0xC]);
        a.jmp(writeData);
        a.Label(ref address32);
        a.lea(eax, __[edx + 8]);
        a.Label(ref writeData);
        a.mov(ebx, Vector);
        g.ConfigWrite32(PciAccessMethod.Conf1);
        a.mov(eax, edx);
        a.mov(ebx, esi);
        a.or(ebx, 1 << 16);
        g.ConfigWrite32(PciAccessMethod.Conf1);
        g.PrintLine($"edu-irq: MSI enabled: address 0x{PcLayout.LocalApicBase:X8}, data 0x{Vector:X2}");

        InstallGate(g, idt, idtr, handler, gateSize);
        InterruptGate.EnableLocalApic(g);
        g.MmioWrite(EduRegisters.Bar0 + EduRegisters.Status, 4, EduRegisters.StatusFactorialInterrupt);

        a.mov(ebx, 1);
        a.Label(ref next);
        g.LoadAddressOf(ecx, interrupts);
        a.mov(__dword_ptr[g.At(ecx)], 0);
        a.mov(edi, EduRegisters.Bar0 + EduRegisters.Factorial);
        a.mov(eax, ebx);
        g.MmioWrite(4);
        InterruptGate.SleepUntilCounted(g, halt);
        EduRegisters.ReadAndPrintFactorial(g, "edu-irq: ");
        a.inc(ebx);
        a.cmp(ebx, Count);
        a.jbe(next);
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);

        EmitHandler(g, handler, halt, interrupts, returnWithIret);
        EduRegisters.Fail(g, ref notFound, "edu-irq: no 1234:11e8 on bus 0");
        EduRegisters.Fail(g, ref noMsi, "edu-irq: edu has no MSI capability");
        return g.Build("edu-irq");
    }

    private static void InstallGate(GuestAssembler g, Iced.Intel.Label idt, Iced.Intel.Label idtr, Iced.Intel.Label handler, int gateSize)
    {
        InterruptGate.Install(g, idt, idtr, handler, gateSize, Vector);
        g.PrintLine($"edu-irq: IDT gate for vector 0x{Vector:X2} installed");
    }

    private static void EmitHandler(GuestAssembler g, Iced.Intel.Label handler, Iced.Intel.Label halt, Iced.Intel.Label interrupts, bool returnWithIret)
    {
        var a = g.Asm;
        InterruptGate.BeginHandler(g, handler, halt);
        g.MmioRead(EduRegisters.Bar0 + EduRegisters.InterruptStatus, 4);
        g.Print("edu-irq: handler: vector 0x40, interrupt status 0x");
        g.PrintHex();
        g.PrintLine("");
        a.mov(edi, EduRegisters.Bar0 + EduRegisters.InterruptAcknowledge);
        g.MmioWrite(4);
        InterruptGate.EndHandler(g, interrupts, returnWithIret);
    }
}
