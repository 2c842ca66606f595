using KvmLab.Loading;

namespace KvmLab.Guests;

/// <summary>hello: the smallest useful guest, a UART driver in a dozen instructions.</summary>
public static class HelloGuest
{
    /// <summary>The line the guest prints last, before it exits.</summary>
    public const string FinalLine = "hello: done";

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "hello",
        "Prints a greeting over COM1, polling the line-status register, then exits through debug-exit.",
        """
        Every byte costs two port accesses: an IN from the line-status register (0x3FD) to see THRE (bit 5) set,
        then an OUT to the transmit register (0x3F8). Observe pairs of KVM_EXIT_IO exits, read then write, one pair
        per character, each answered by the UART's region ops; then a final OUT to isa-debug-exit (0x501) that ends
        the run with a status. The same guest builds in real, protected and long mode: the code differs, the exits
        do not.
        """,
        CpuMode.Real,
        [CpuMode.Real, CpuMode.Protected, CpuMode.Long],
        Build);

    /// <summary>Builds hello for <paramref name="mode"/>.</summary>
    public static GuestImage Build(CpuMode mode)
    {
        var g = new GuestAssembler(mode);
        g.PrintLine($"Hello from a KvmLab guest in {ModeName(mode)} mode!");
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        return g.Build("hello");
    }

    internal static string ModeName(CpuMode mode) => mode switch
    {
        CpuMode.Real => "real",
        CpuMode.Protected => "protected",
        _ => "long",
    };
}
