using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>pcie-scan: firmware's PCI Express enumeration on q35: ECAM through PCIEXBAR, buses behind root ports,
/// standard and extended capability lists, every BAR sized.</summary>
public static class PcieScanGuest
{
    /// <summary>The line the guest prints last.</summary>
    public const string FinalLine = "pcie-scan: done";

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "pcie-scan",
        "PCI Express enumeration on q35: PCIEXBAR, ECAM, buses behind a root port, capability lists, BAR sizes.",
        """
        What firmware does on a q35 machine before an OS runs. First conf1 (0xCF8/0xCFC) writes the MCH's PCIEXBAR
        register (00:00.0, 0x60) = 0xB0000000 | enable: from then on configuration space is memory, 4 KiB per
        function at 0xB0000000 + (bus<<20 | device<<15 | function<<12) (QEMU: mch_update_pciexbar maps the
        "pcie-mmcfg-mmio" region). Then every bus is scanned through ECAM, one KVM_EXIT_MMIO per access. A type-1
        header is a bridge, here the PCI Express root port: the guest gives it bus numbers (primary = this bus,
        secondary = subordinate = the next free number, register 0x18) and the bus behind it is scanned next; until
        then, configuration cycles for that bus reach nobody (QEMU: pci_find_bus_nr). For each function the guest
        walks the capability list (status bit 4, pointer at 0x34, each entry ID and next pointer) and, for a PCI
        Express function (capability 0x10), the extended capability list from 0x100 (ID 15:0, version 19:16, next
        31:20), which conf1 cannot reach. BARs are sized as in pci-scan, 64-bit BARs as a pair. Observe: the output
        is the same on KvmLab and under QEMU -M q35 with the same devices, line for line.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        Build,
        Board: "q35");

    /// <summary>Builds the scan for <paramref name="mode"/> (protected or long: ECAM lies above real mode's reach).</summary>
    public static GuestImage Build(CpuMode mode)
    {
        const PciAccessMethod ecam = PciAccessMethod.Ecam;
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var done = a.CreateLabel();
        var notQ35 = a.CreateLabel();

        g.ConfigRead(PciAccessMethod.Conf1, 0, 0, 0, 0, 4);
        a.cmp(eax, 0x29C0_8086);
        a.jne(notQ35);
        g.ConfigWrite(PciAccessMethod.Conf1, 0, 0, 0, 0x60, 4, (uint)PcLayout.EcamBase | 1);
        g.PrintLine($"pcie-scan: PCIEXBAR = 0x{PcLayout.EcamBase:X8} | enable: ECAM on");
        PciBusWalk.Emit(g, ecam, () =>
        {
            PciScanGuest.PrintFunctionLine(g, ecam);
            PciScanGuest.PrintBars(g, ecam);
            PrintCapabilities(g);
        }, assignBuses: true, "  bridge: bus numbers primary/secondary/subordinate = ", done);

        a.Label(ref notQ35);
        g.PrintLine("pcie-scan: no q35 host bridge (8086:29c0) at 00:00.0: no PCIEXBAR to enable, no ECAM");
        g.IsaDebugExit(GuestAssembler.ExitFailure);
        a.Label(ref done);
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        return g.Build("pcie-scan") with { Board = "q35" };
    }

    // The standard list (if status bit 4 says there is one), then, for a PCI Express function, the extended list.
    // In: EBP = function. Keeps EBP and EDX; uses EBX as the PCIe flag, EDI as the list cursor.
    private static void PrintCapabilities(GuestAssembler g)
    {
        var a = g.Asm;
        var walk = a.CreateLabel();
        var notExpress = a.CreateLabel();
        var listDone = a.CreateLabel();
        var extendedWalk = a.CreateLabel();
        var end = a.CreateLabel();

        a.xor(ebx, ebx);
        g.BeginCapabilityWalk(PciAccessMethod.Ecam, edi, listDone, walk, listDone);
        g.Print("  cap 0x");
        g.Push(eax);
        a.mov(eax, edi);
        g.PrintHex(2);
        g.Print(" id 0x");
        g.Pop(eax);
        g.Push(eax);
        a.movzx(eax, al);
        g.PrintHex(2);
        g.PrintLine("");
        g.Pop(eax);
        a.cmp(al, 0x10);
        a.jne(notExpress);
        a.mov(ebx, 1);
        a.Label(ref notExpress);
        a.movzx(edi, ah);
        a.jmp(walk);
        a.Label(ref listDone);

        a.test(ebx, ebx);
        a.jz(end);
        a.mov(edi, 0x100);
        a.Label(ref extendedWalk);
        // Extended register EDI (0x100..0xFFF) as a config address: bits 7:0 as usual, 11:8 in 27:24.
        a.mov(eax, edi);
        a.and(eax, 0xF00);
        a.shl(eax, 16);
        a.or(eax, ebp);
        a.mov(ecx, edi);
        a.and(ecx, 0xFC);
        a.or(eax, ecx);
        g.ConfigRead32(PciAccessMethod.Ecam);
        a.test(eax, eax);
        a.jz(end);
        a.cmp(eax, -1);
        a.je(end);
        g.Print("  ecap 0x");
        g.Push(eax);
        a.mov(eax, edi);
        g.PrintHex(3);
        g.Print(" id 0x");
        g.Pop(eax);
        g.Push(eax);
        a.movzx(eax, ax);
        g.PrintHex(4);
        g.Print(" v");
        g.Pop(eax);
        g.Push(eax);
        a.shr(eax, 16);
        a.and(eax, 0xF);
        g.PrintHex(1);
        g.PrintLine("");
        g.Pop(eax);
        a.shr(eax, 20);
        a.mov(edi, eax);
        a.cmp(edi, 0x100);
        a.jae(extendedWalk);
        a.Label(ref end);
    }
}
