using KvmLab.Loading;
using KvmLab.Pci;

namespace KvmLab.Guests;

/// <summary>bar-move: a BAR is only an address the guest chose; moving it or turning decoding off changes what an
/// MMIO address reaches, while the device keeps its state.</summary>
public static class BarMoveGuest
{
    /// <summary>The line the guest prints last.</summary>
    public const string FinalLine = "bar-move: done";

    /// <summary>Where the guest moves edu's BAR0 (the next 1 MiB-aligned address after the first).</summary>
    public const uint MovedBar0 = EduRegisters.Bar0 + EduRegisters.Bar0Size;

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "bar-move",
        "Moves edu's BAR0 while running and turns memory decoding off and on: old addresses become unassigned.",
        $"""
        The guest programs edu's BAR0 to 0x{EduRegisters.Bar0:X8} and writes a pattern into the liveness register,
        then rewrites BAR0 to 0x{MovedBar0:X8}. Each configuration write that touches a BAR or the command register
        makes the device model re-place its region in the "memory" address space (QEMU: pci_update_mappings, which
        deletes the subregion and adds it at the new address). Observe: the identification register now answers at
        the new address, while a read at the old address reaches no region: unassigned memory, which reads 0 on
        both KvmLab and QEMU and is flagged in KvmLab's trace. The liveness register still holds the inverted pattern:
        moving a BAR moves the window, not the device. Clearing the command register's memory bit unmaps the BAR
        (the same read at the new address is now unassigned too); setting it maps it back. Every access is still a
        KVM_EXIT_MMIO: no memory slot backs any of these addresses, whether a region claims them or not.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        Build);

    /// <summary>Builds the guest for protected or long mode.</summary>
    public static GuestImage Build(CpuMode mode)
    {
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var notFound = a.CreateLabel();

        EduRegisters.FindAndEnable(g, "bar-move", notFound);
        g.MmioWrite(EduRegisters.Bar0 + EduRegisters.Liveness, 4, EduGuest.LivenessPattern);
        ReadAndPrint(g, EduRegisters.Bar0 + EduRegisters.Identification, "identification");

        // EBP = edu's config address (from FindAndEnable).
        g.WriteFunctionConfig32(PciAccessMethod.Conf1, PciConfig.Bar0, MovedBar0);
        g.PrintLine($"bar-move: BAR0 rewritten to 0x{MovedBar0:X8}");
        ReadAndPrint(g, EduRegisters.Bar0 + EduRegisters.Identification, "identification at the old address (unassigned)");
        ReadAndPrint(g, MovedBar0 + EduRegisters.Identification, "identification at the new address");
        ReadAndPrint(g, MovedBar0 + EduRegisters.Liveness, "liveness, kept across the move");

        g.WriteFunctionConfig32(PciAccessMethod.Conf1, PciConfig.Command, 0);
        g.PrintLine("bar-move: memory decoding off");
        ReadAndPrint(g, MovedBar0 + EduRegisters.Identification, "identification with decoding off (unassigned)");
        g.WriteFunctionConfig32(PciAccessMethod.Conf1, PciConfig.Command, GuestAssembler.CommandMemoryAndBusMaster);
        g.PrintLine("bar-move: memory decoding on");
        ReadAndPrint(g, MovedBar0 + EduRegisters.Identification, "identification with decoding on again");
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);

        EduRegisters.Fail(g, ref notFound, "bar-move: no 1234:11e8 on bus 0");
        return g.Build("bar-move");
    }

    private static void ReadAndPrint(GuestAssembler g, uint address, string what)
    {
        g.MmioRead(address, 4);
        g.Print($"bar-move: read 0x{address:X8} ({what}): 0x");
        g.PrintHex();
        g.PrintLine("");
    }
}
