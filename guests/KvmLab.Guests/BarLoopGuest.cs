using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>bar-loop: hammer one register inside edu's BAR, for the experiment that maps RAM over it.</summary>
public static class BarLoopGuest
{
    /// <summary>Writes the library entry performs.</summary>
    public const int DefaultIterations = 1000;

    /// <summary>The guest-physical address it hammers: edu's liveness register.</summary>
    public const uint Target = EduRegisters.Bar0 + EduRegisters.Liveness;

    /// <summary>The line the guest prints last.</summary>
    public const string FinalLine = "bar-loop: done";

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "bar-loop",
        $"Writes edu's liveness register (0x{Target:X8}) {DefaultIterations} times, then reads it back once.",
        """
        Every write to an address no memory slot covers is a KVM_EXIT_MMIO: this loop costs one exit per
        iteration, and the exit count scales with N. Then the experiment: the host maps a RAM memory slot over the
        BAR (QEMU does this for RAM-backed BARs such as a GPU's framebuffer), the same loop runs without a single
        exit, and the final read returns the last value written instead of its bitwise NOT, because now it is RAM,
        not the device, that answers. The guest prints the value it read, so both outcomes are visible.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        mode => Build(mode, DefaultIterations));

    /// <summary>Builds bar-loop with <paramref name="iterations"/> writes.</summary>
    public static GuestImage Build(CpuMode mode, int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var notFound = a.CreateLabel();
        var loop = a.CreateLabel();
        EduRegisters.FindAndEnable(g, "bar-loop", notFound);
        g.PrintLine($"bar-loop: {iterations} writes to 0x{Target:X8}");
        a.mov(ecx, iterations);
        a.mov(edi, Target);
        a.Label(ref loop);
        a.mov(eax, ecx);
        g.MmioWrite(4);
        a.dec(ecx);
        a.jnz(loop);
        g.MmioRead(Target, 4);
        g.Print("bar-loop: last write 0x00000001, read back 0x");
        g.PrintHex();
        g.PrintLine("");
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        EduRegisters.Fail(g, ref notFound, "bar-loop: no 1234:11e8 on bus 0");
        return g.Build("bar-loop");
    }
}
