using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>config-dump: prints the configuration space of every function, for comparing KvmLab's devices with
/// QEMU's byte for byte (<c>kvmlab compare --config-space</c>).</summary>
public static class ConfigDumpGuest
{
    /// <summary>The line the guest prints last.</summary>
    public const string FinalLine = "config-dump: done";

    /// <summary>What the guest prints for a conventional function's extended space reached through ECAM.</summary>
    public const string ConventionalMarker = "100-fff all-ones";

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "config-dump",
        "Prints every function's configuration space (256 bytes via conf1 on pc, 4 KiB via ECAM on q35).",
        """
        A dump of configuration space as the guest reads it, before firmware would program anything. On the pc
        board it reads the 256 bytes of each function through conf1; on q35 it first enables PCIEXBAR and reads all
        4 KiB through ECAM, giving root ports bus numbers (as pcie-scan does) so the functions behind them are
        dumped too. Lines are "BB:DD.F OOO: dword dword dword dword" (each dword as the CPU reads it, so byte 0 is
        the last two hex digits); lines of zeros are left out; a conventional function's extended space, which
        reads all-ones through ECAM, is one line "BB:DD.F 100-fff all-ones". kvmlab compare --config-space runs it
        on KvmLab and under QEMU and lists every byte that differs.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        Build);

    /// <summary>Builds the dump for <paramref name="mode"/>.</summary>
    public static GuestImage Build(CpuMode mode)
    {
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var q35 = a.CreateLabel();
        var done = a.CreateLabel();

        g.ConfigRead(PciAccessMethod.Conf1, 0, 0, 0, 0, 4);
        a.cmp(eax, 0x29C0_8086);
        a.je(q35);
        g.PrintLine("config-dump: conf1, 256 bytes per function");
        EmitScan(g, PciAccessMethod.Conf1, done);
        a.Label(ref q35);
        g.ConfigWrite(PciAccessMethod.Conf1, 0, 0, 0, 0x60, 4, (uint)PcLayout.EcamBase | 1);
        g.PrintLine("config-dump: PCIEXBAR enabled, ECAM, 4 KiB per function");
        EmitScan(g, PciAccessMethod.Ecam, done);
        a.Label(ref done);
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        return g.Build("config-dump");
    }

    // Every present function dumped, then (a bridge, through ECAM) given bus numbers so the bus behind it is dumped too.
    private static void EmitScan(GuestAssembler g, PciAccessMethod method, Iced.Intel.Label done) =>
        PciBusWalk.Emit(g, method, () =>
        {
            var a = g.Asm;
            a.lea(eax, __[ebp + 0xC]);
            g.ConfigRead32(method);
            a.shr(eax, 16);
            a.mov(dl, al);
            EmitDump(g, method);
        }, assignBuses: method == PciAccessMethod.Ecam, bridgeReport: null, done);

    // Lines of 16 bytes from EDI = 0 to the end (0x100 via conf1; via ECAM 0x1000, or 0x100 and the all-ones marker
    // when the dword at 0x100 reads all-ones). Keeps EBP and EDX.
    private static void EmitDump(GuestAssembler g, PciAccessMethod method)
    {
        var a = g.Asm;
        var line = a.CreateLabel();
        var print = a.CreateLabel();
        var next = a.CreateLabel();
        var dword = a.CreateLabel();
        var end = a.CreateLabel();
        var conventional = a.CreateLabel();

        a.xor(edi, edi);
        a.Label(ref line);
        if (method == PciAccessMethod.Ecam)
        {
            a.cmp(edi, 0x100);
            a.jne(print);
            Read(g, method, 0);
            a.cmp(eax, -1);
            a.je(conventional);
        }
        else
        {
            a.cmp(edi, 0x100);
            a.jae(end);
        }

        a.Label(ref print);
        a.cmp(edi, 0x1000);
        a.jae(end);
        a.xor(ebx, ebx);
        for (var i = 0; i < 16; i += 4)
        {
            Read(g, method, i);
            a.or(ebx, eax);
        }

        a.test(ebx, ebx);
        a.jz(next);
        PciBusWalk.PrintAddress(g);
        a.mov(eax, edi);
        g.PrintHex(3);
        g.Print(":");
        a.xor(esi, esi);
        a.Label(ref dword);
        g.Print(" ");
        Read(g, method, 0, esi);
        g.PrintHex(8);
        a.add(esi, 4);
        a.cmp(esi, 16);
        a.jb(dword);
        g.PrintLine("");
        a.Label(ref next);
        a.add(edi, 16);
        a.jmp(line);

        a.Label(ref conventional);
        PciBusWalk.PrintAddress(g);
        g.PrintLine(ConventionalMarker);
        a.Label(ref end);
    }

    // EAX = the dword at register EDI + displacement (+ ESI when given) of the function at EBP.
    private static void Read(GuestAssembler g, PciAccessMethod method, int displacement, Iced.Intel.AssemblerRegister32? index = null)
    {
        var a = g.Asm;
        g.Push(ecx);
        a.lea(ecx, __[edi + displacement]);
        if (index is { } r) a.add(ecx, r);
        // Register bits 11:8 travel in bits 27:24 of the config address (GuestAssembler.ExtendedConfigAddress).
        a.mov(eax, ecx);
        a.and(eax, 0xF00);
        a.shl(eax, 16);
        a.and(ecx, 0xFC);
        a.or(eax, ecx);
        a.or(eax, ebp);
        g.Pop(ecx);
        g.ConfigRead32(method);
    }
}
