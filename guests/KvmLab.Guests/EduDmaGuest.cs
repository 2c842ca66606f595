using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>edu-dma: a DMA round trip through edu's buffer, verified byte for byte.</summary>
public static class EduDmaGuest
{
    /// <summary>The verdict line printed when every byte came back.</summary>
    public const string VerdictOk = "edu-dma: verdict OK";

    /// <summary>Bytes moved each way.</summary>
    public const int Length = 256;

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "edu-dma",
        "Copies a buffer RAM -> edu's DMA buffer -> another RAM buffer and compares it byte for byte.",
        """
        DMA is the device writing guest RAM on its own: no exit happens for the data itself. Observe four MMIO
        writes per transfer (0xE0000080 source, 0xE0000088 destination, 0xE0000090 count, 0xE0000098 command),
        then MMIO reads of the command register until bit 0 clears. The first transfer (command 1) reads guest RAM
        into the device buffer at device address 0x40000; the second (command 3: direction bit set) writes it back
        to a second RAM buffer. Then the guest compares the two buffers and prints the verdict. Bus mastering must
        be enabled in the PCI command register, or the device's accesses to RAM go nowhere.
        """,
        CpuMode.Protected,
        [CpuMode.Protected, CpuMode.Long],
        Build);

    /// <summary>Builds edu-dma for protected or long mode.</summary>
    public static GuestImage Build(CpuMode mode)
    {
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var notFound = a.CreateLabel();
        var mismatch = a.CreateLabel();
        var pattern = new byte[Length];
        for (var i = 0; i < Length; i++)
            pattern[i] = (byte)(i * 7 + 3);
        var source = g.Data(pattern);
        var destination = g.Reserve(Length);

        EduRegisters.FindAndEnable(g, "edu-dma", notFound);
        g.LoadAddressOf(eax, source);
        Transfer(g, "RAM 0x", "device 0x", EduRegisters.DmaBuffer, toRam: false);
        g.LoadAddressOf(eax, destination);
        Transfer(g, "device 0x", "RAM 0x", EduRegisters.DmaBuffer, toRam: true);

        g.LoadAddressOf(esi, source);
        g.LoadAddressOf(edi, destination);
        a.mov(ecx, Length);
        a.repe.cmpsb();
        a.jne(mismatch);
        g.PrintLine($"{VerdictOk}: {Length} bytes came back intact");
        g.IsaDebugExit(GuestAssembler.ExitSuccess);

        a.Label(ref mismatch);
        g.Print("edu-dma: verdict MISMATCH at byte ");
        a.mov(eax, Length - 1);
        a.sub(eax, ecx);
        g.PrintDecimal();
        g.PrintLine("");
        g.IsaDebugExit(GuestAssembler.ExitFailure);
        EduRegisters.Fail(g, ref notFound, "edu-dma: no 1234:11e8 on bus 0");
        return g.Build("edu-dma");
    }

    // EAX = the RAM address; the device side is always the start of edu's buffer.
    private static void Transfer(GuestAssembler g, string fromText, string toText, uint device, bool toRam)
    {
        var a = g.Asm;
        var busy = a.CreateLabel();
        var size = g.Mode == CpuMode.Long ? 8 : 4;
        void LoadSide(bool ram)
        {
            if (ram) a.mov(eax, edx); else a.mov(eax, device);
        }

        a.mov(edx, eax);
        g.Print("edu-dma: " + fromText);
        LoadSide(ram: !toRam);
        g.PrintHex();
        g.Print(" -> " + toText);
        LoadSide(ram: toRam);
        g.PrintHex();
        g.PrintLine("");

        // A 4-byte write to an address register sets all 64 bits (the upper half zero), so 32-bit guests need one write.
        a.mov(edi, EduRegisters.Bar0 + EduRegisters.DmaSource);
        LoadSide(ram: !toRam);
        g.MmioWrite(size);
        a.mov(edi, EduRegisters.Bar0 + EduRegisters.DmaDestination);
        LoadSide(ram: toRam);
        g.MmioWrite(size);
        g.MmioWrite(EduRegisters.Bar0 + EduRegisters.DmaCount, size, Length);
        g.MmioWrite(EduRegisters.Bar0 + EduRegisters.DmaCommand, size, toRam ? 3u : 1u);
        a.Label(ref busy);
        g.MmioRead(EduRegisters.Bar0 + EduRegisters.DmaCommand, 4);
        a.test(al, 1);
        a.jnz(busy);
    }
}
