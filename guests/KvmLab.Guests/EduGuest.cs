using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>edu: a PCI driver in miniature, polling for completion.</summary>
public static class EduGuest
{
    /// <summary>The line the guest prints last on success.</summary>
    public const string FinalLine = "edu: done";

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "edu",
        "Finds edu, assigns BAR0, checks ID and liveness, computes 1!..12! on the device by polling the busy bit.",
        """
        The guest does what firmware and a driver do: scans bus 0 through conf1 for 1234:11e8, writes BAR0
        (0xE0000000) and enables memory decoding in the command register; from then on edu's registers are MMIO.
        Observe: conf1 exits (0xCF8 then 0xCFC) during the scan; KVM_EXIT_MMIO reads of 0xE0000000 (identification
        0x010000ED) and a write then read of 0xE0000004 (liveness: the device returns the bitwise NOT); for each n a
        write of 0xE0000008, a burst of reads of the status register 0xE0000020 while bit 0 (busy) is set, then a
        read of 0xE0000008 with n!. The number of status polls shows how long the device took.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        Build);

    /// <summary>The liveness pattern the guest writes.</summary>
    public const uint LivenessPattern = 0x1234_5678;

    /// <summary>Builds edu for protected or long mode.</summary>
    public static GuestImage Build(CpuMode mode)
    {
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var notFound = a.CreateLabel();
        var dead = a.CreateLabel();
        var next = a.CreateLabel();
        var poll = a.CreateLabel();

        EduRegisters.FindAndEnable(g, "edu", notFound);
        g.MmioRead(EduRegisters.Bar0 + EduRegisters.Identification, 4);
        g.Print("edu: identification 0x");
        g.PrintHex();
        g.PrintLine("");
        g.MmioWrite(EduRegisters.Bar0 + EduRegisters.Liveness, 4, LivenessPattern);
        g.MmioRead(EduRegisters.Bar0 + EduRegisters.Liveness, 4);
        a.cmp(eax, unchecked((int)~LivenessPattern));
        a.jne(dead);
        g.PrintLine($"edu: liveness ok (wrote 0x{LivenessPattern:X8}, read 0x{~LivenessPattern:X8})");

        a.mov(ebx, 1);
        a.Label(ref next);
        a.mov(edi, EduRegisters.Bar0 + EduRegisters.Factorial);
        a.mov(eax, ebx);
        g.MmioWrite(4);
        a.Label(ref poll);
        g.MmioRead(EduRegisters.Bar0 + EduRegisters.Status, 4);
        a.test(al, (byte)EduRegisters.StatusBusy);
        a.jnz(poll);
        EduRegisters.ReadAndPrintFactorial(g, "edu: ");
        a.inc(ebx);
        a.cmp(ebx, 12);
        a.jbe(next);
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);

        EduRegisters.Fail(g, ref notFound, "edu: no 1234:11e8 on bus 0");
        EduRegisters.Fail(g, ref dead, "edu: liveness check FAILED");
        return g.Build("edu");
    }
}
