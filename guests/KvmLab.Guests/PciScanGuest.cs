using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>pci-scan and pci-scan-ecam: enumerate bus 0 and size every BAR, the way firmware does.</summary>
public static class PciScanGuest
{
    /// <summary>The line the guest prints last.</summary>
    public const string FinalLine = "pci-scan: done";

    /// <summary>The conf1 library entry.</summary>
    public static Guest Conf1Entry { get; } = new(
        "pci-scan",
        "Enumerates bus 0 through conf1 (0xCF8/0xCFC): IDs, class, header type, multi-function, BAR sizes.",
        """
        For each device 0..31 the guest reads the vendor/device dword of function 0; all-ones means "nobody here"
        (the host bridge answers for absent functions). Present functions print vendor:device and the class code;
        the header type's bit 7 says whether functions 1..7 exist. Each BAR is sized with the standard protocol:
        save it, write all-ones, read back the mask (the device hard-wires the low address bits to zero), restore
        the original; the lowest set bit of the mask is the size. 64-bit memory BARs take two slots and are sized
        as a pair. Observe: every configuration access is two port exits (OUT 0xCF8 with the address, then IN/OUT
        on 0xCFC), served by the host bridge, which forwards to the function's config space.
        """,
        CpuMode.Real,
        [CpuMode.Real, CpuMode.Protected, CpuMode.Long],
        mode => Build(mode, PciAccessMethod.Conf1));

    /// <summary>The ECAM library entry.</summary>
    public static Guest EcamEntry { get; } = new(
        "pci-scan-ecam",
        "The same scan through PCIe ECAM at 0xB0000000: one MMIO access per configuration access.",
        """
        The same scan, but configuration space is memory: 0xB0000000 + (bus<<20 | device<<15 | function<<12 |
        offset). Observe: each configuration access is a single KVM_EXIT_MMIO instead of two port exits, so the
        scan needs half the exits. Needs a 32-bit address, so it runs in protected or long mode. The window exists
        only on the q35 board (as on QEMU's q35 machine), and only once firmware enables it: this guest does that
        when it finds the q35 host bridge (8086:29c0): PCIEXBAR (config 0x60) = 0xB0000000 | enable. It runs on q35
        by default.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        mode => Build(mode, PciAccessMethod.Ecam),
        Board: "q35");

    /// <summary>Emits: print ECX's lowest set bit (x &amp; -x, a BAR's size from its mask) in hex, then <paramref name="suffix"/>.</summary>
    private static void PrintLowestSetBit(GuestAssembler g, string suffix)
    {
        var a = g.Asm;
        a.mov(eax, ecx);
        a.neg(ecx);
        a.and(eax, ecx);
        g.PrintHex();
        g.PrintLine(suffix);
    }

    /// <summary>Builds the scan for <paramref name="mode"/> through <paramref name="method"/>.</summary>
    public static GuestImage Build(CpuMode mode, PciAccessMethod method)
    {
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var name = method == PciAccessMethod.Conf1 ? "pci-scan" : "pci-scan-ecam";
        var notQ35 = a.CreateLabel();

        g.PrintLine($"{name}: scanning bus 0 through {(method == PciAccessMethod.Conf1 ? "conf1 (0xCF8/0xCFC)" : $"ECAM at 0x{PcLayout.EcamBase:X8}")}");
        if (method == PciAccessMethod.Ecam)
        {
            g.ConfigRead(PciAccessMethod.Conf1, 0, 0, 0, 0, 4);
            a.cmp(eax, 0x29C0_8086);
            a.jne(notQ35);
            g.ConfigWrite(PciAccessMethod.Conf1, 0, 0, 0, 0x60, 4, (uint)PcLayout.EcamBase | 1);
            g.PrintLine($"{name}: q35 host bridge: PCIEXBAR set to 0x{PcLayout.EcamBase:X8}");
            a.Label(ref notQ35);
        }

        // EBP = ConfigAddress of the function; DL = header type (bit 7 multi-function); DH = end of the BAR block.
        PciBusWalk.EmitBusZero(g, method, () =>
        {
            PrintFunctionLine(g, method);
            PrintBars(g, method);
        });
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        return method == PciAccessMethod.Ecam ? g.Build(name) with { Board = "q35" } : g.Build(name);
    }

    /// <summary>
    /// Emits: print "BB:DD.F vvvv:dddd class cccccc header hh" for the function at EBP whose ID dword is in ECX, and
    /// leave its header type in DL (bit 7: multi-function).
    /// </summary>
    internal static void PrintFunctionLine(GuestAssembler g, PciAccessMethod method)
    {
        var a = g.Asm;
        PciBusWalk.PrintAddress(g);
        a.movzx(eax, cx);
        g.PrintHex(4);
        g.Print(":");
        a.mov(eax, ecx);
        a.shr(eax, 16);
        g.PrintHex(4);
        g.Print(" class ");
        a.lea(eax, __[ebp + 8]);
        g.ConfigRead32(method);
        a.shr(eax, 8);
        g.PrintHex(6);
        a.lea(eax, __[ebp + 0xC]);
        g.ConfigRead32(method);
        a.shr(eax, 16);
        a.movzx(edx, al);
        g.Print(" header ");
        a.mov(eax, edx);
        g.PrintHex(2);
        g.PrintLine("");
    }

    /// <summary>
    /// Emits: size and print every BAR of the function at EBP with header type DL, "  BARn io|mem32|mem64 size 0x..."
    /// (six BARs for type 0, two for a bridge, none for other types). Uses DH, EDI, ESI, ECX, EBX.
    /// </summary>
    internal static void PrintBars(GuestAssembler g, PciAccessMethod method)
    {
        var a = g.Asm;
        var functionDone = a.CreateLabel();
        var bar = a.CreateLabel();
        var nextBar = a.CreateLabel();
        var memory = a.CreateLabel();
        var mem64 = a.CreateLabel();
        var highOnly = a.CreateLabel();
        var printSize = a.CreateLabel();
        var typeOne = a.CreateLabel();
        var barsKnown = a.CreateLabel();
        // Type 0 headers have six BARs (0x10..0x24), bridges (type 1) two (0x10..0x14), other types none.
        a.mov(al, dl);
        a.and(al, 0x7F);
        a.mov(dh, 0x28);
        a.test(al, al);
        a.jz(barsKnown);
        a.mov(dh, 0x10);
        a.cmp(al, 1);
        a.jne(barsKnown);
        a.Label(ref typeOne);
        a.mov(dh, 0x18);
        a.Label(ref barsKnown);
        a.mov(edi, 0x10);

        a.Label(ref bar);
        a.movzx(ecx, dh);
        a.cmp(edi, ecx);
        a.jae(functionDone);
        SizeBar(g, method);
        a.test(ecx, ecx);
        a.jz(nextBar);
        g.Print("  BAR");
        a.lea(eax, __[edi - 0x10]);
        a.shr(eax, 2);
        g.PrintDecimal();
        a.test(esi, 1);
        a.jz(memory);
        g.Print(" io    size 0x");
        a.and(ecx, ~3);
        a.jmp(printSize);
        a.Label(ref memory);
        a.mov(eax, esi);
        a.and(eax, 6);
        a.cmp(eax, 4);
        a.je(mem64);
        g.Print(" mem32 size 0x");
        a.and(ecx, ~0xF);
        a.jmp(printSize);

        // A 64-bit BAR spans two slots and is sized as a pair; an all-zero low mask means the size is >= 4 GiB.
        a.Label(ref mem64);
        g.Print(" mem64 size 0x");
        a.and(ecx, ~0xF);
        g.Push(ecx);
        a.add(edi, 4);
        SizeBar(g, method);
        g.Pop(eax);
        a.test(eax, eax);
        a.jz(highOnly);
        a.mov(ecx, eax);
        a.jmp(printSize);
        a.Label(ref highOnly);
        PrintLowestSetBit(g, "00000000");
        a.jmp(nextBar);

        a.Label(ref printSize);
        PrintLowestSetBit(g, "");
        a.Label(ref nextBar);
        a.add(edi, 4);
        a.jmp(bar);
        a.Label(ref functionDone);
    }

    // The sizing protocol on the BAR at EBP + EDI: ESI = original value, ECX = the mask read after writing all-ones.
    private static void SizeBar(GuestAssembler g, PciAccessMethod method)
    {
        var a = g.Asm;
        a.lea(eax, __[ebp + edi]);
        g.ConfigRead32(method);
        a.mov(esi, eax);
        a.lea(eax, __[ebp + edi]);
        a.mov(ebx, -1);
        g.ConfigWrite32(method);
        a.lea(eax, __[ebp + edi]);
        g.ConfigRead32(method);
        a.mov(ecx, eax);
        a.lea(eax, __[ebp + edi]);
        a.mov(ebx, esi);
        g.ConfigWrite32(method);
    }
}
