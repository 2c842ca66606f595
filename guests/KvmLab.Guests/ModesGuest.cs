using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>modes: the guest walks the x86 boot path itself, real -> protected -> long mode.</summary>
public static class ModesGuest
{
    /// <summary>The line the guest prints last.</summary>
    public const string FinalLine = "modes: done";

    /// <summary>Where the image must be loaded: its 32- and 64-bit parts are assembled for fixed addresses.</summary>
    public const ulong LoadAddress = PcLayout.DefaultRealModeLoadAddress;

    private const int ProtectedPart = 0x400;
    private const int LongPart = 0x800;
    private const int Size = 0xC00;

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "modes",
        "Starts in real mode and switches to protected and then long mode itself, printing a banner in each.",
        """
        What firmware and a kernel's boot code do, in three short parts. Real mode: CS:IP addressing, the banner
        shows CS = 0x1000. Then LGDT with a flat GDT, CR0.PE = 1 and a far jump into a 32-bit code segment: the
        protected-mode banner shows CR0. Then page tables identity-mapping 4 GiB with 2 MiB pages (built at 0x1000),
        CR4.PAE, CR3, EFER.LME (WRMSR 0xC0000080), CR0.PG and a far jump into a 64-bit code segment: the banner
        shows EFER with LMA set (0x500). Observe: none of these steps exits to the VMM (they are CPU state, not
        device accesses); only the UART and debug-exit accesses do. The image must load at 0x10000.
        """,
        CpuMode.Real,
        [CpuMode.Real],
        Build);

    /// <summary>Builds modes (it always starts in real mode).</summary>
    public static GuestImage Build(CpuMode mode)
    {
        if (mode != CpuMode.Real)
            throw new ArgumentException("modes starts in real mode; it switches to the others itself.", nameof(mode));
        var real = RealPart();
        var prot = ProtectedPartImage();
        var lng = LongPartImage();
        if (real.Length > ProtectedPart || prot.Length > LongPart - ProtectedPart || lng.Length > Size - LongPart)
            throw new InvalidOperationException("A part of the modes guest outgrew its slot.");
        var image = new byte[Size];
        real.CopyTo(image, 0);
        prot.CopyTo(image, ProtectedPart);
        lng.CopyTo(image, LongPart);
        return new GuestImage("modes", image, LoadAddress, LoadAddress, CpuMode.Real);
    }

    private static byte[] RealPart()
    {
        var g = new GuestAssembler(CpuMode.Real, LoadAddress);
        var a = g.Asm;
        var gdt = g.Data(GuestExport.FlatGdt.SelectMany(BitConverter.GetBytes).ToArray());
        var gdtr = g.Reserve(6);

        g.Print("modes: real mode, CS=0x");
        a.xor(eax, eax);
        a.mov(ax, cs);
        g.PrintHex(4);
        g.PrintLine("");
        // The GDTR holds a linear address: this segment's base plus the table's offset in it.
        a.shl(eax, 4);
        g.LoadAddressOf(ebx, gdt);
        a.add(eax, ebx);
        g.LoadAddressOf(ecx, gdtr);
        a.mov(__word_ptr[g.At(ecx)], GuestExport.FlatGdt.Count * 8 - 1);
        a.mov(__dword_ptr[g.At(ecx, 2)], eax);
        a.cli();
        a.lgdt(__[g.At(ecx)]);
        GuestExport.SetProtectionEnable(a);
        // jmp far 0x08:imm32 with an operand-size prefix: the target lies above 64 KiB.
        var target = BitConverter.GetBytes((uint)(LoadAddress + ProtectedPart));
        a.db(0x66, 0xEA, target[0], target[1], target[2], target[3], (byte)GuestExport.Code32Selector, 0);
        return g.Build("modes-real").Bytes;
    }

    private static byte[] ProtectedPartImage()
    {
        var g = new GuestAssembler(CpuMode.Protected, LoadAddress + ProtectedPart);
        var a = g.Asm;
        GuestExport.LoadFlatDataSegments(a, fsAndGs: false);
        g.Print("modes: protected mode, CR0=0x");
        a.mov(eax, cr0);
        g.PrintHex();
        g.PrintLine("");
        GuestExport.EnterLongMode(a, (uint)(LoadAddress + LongPart));
        return g.Build("modes-protected").Bytes;
    }

    private static byte[] LongPartImage()
    {
        var g = new GuestAssembler(CpuMode.Long, LoadAddress + LongPart);
        var a = g.Asm;
        GuestExport.LoadFlatDataSegments(a, fsAndGs: false);
        g.Print("modes: long mode, EFER=0x");
        a.mov(ecx, KvmLab.Kvm.ControlRegisterBits.EferMsr);
        a.rdmsr();
        g.PrintHex();
        g.PrintLine("");
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        return g.Build("modes-long").Bytes;
    }
}
