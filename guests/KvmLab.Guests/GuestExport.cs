using Iced.Intel;
using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;
using static KvmLab.Kvm.ControlRegisterBits;

namespace KvmLab.Guests;

/// <summary>
/// Turns a <see cref="GuestImage"/> into files other tools run: the flat bytes, or a 64 KiB firmware image that
/// QEMU's <c>-bios</c> option maps at 0xF0000 (and at 0xFFFF0000, where the reset vector is fetched).
/// </summary>
/// <remarks>
/// <para>The firmware image holds the payload at offset 0, a mode-switch trampoline at 0xF000, a real-mode stub at
/// 0xFC00 and the reset vector at 0xFFF0. The stub copies the payload (real mode) or the trampoline (protected and
/// long mode) into RAM before anything else: switching to protected mode while executing from the ROM hangs under
/// some KVM backends, while the same switch from RAM works everywhere.</para>
/// <para>The CPU state at the guest's entry matches KvmLab's own loader: interrupts off; real mode with
/// CS = load address / 16 and SS:SP = 0000:7FF0; protected mode with flat 4 GiB segments (code 0x08, data 0x10);
/// long mode with code 0x18, the low 4 GiB identity-mapped by 2 MiB pages (PML4 at 0x1000, PDPT at 0x2000,
/// page directories at 0x3000..0x6FFF) and the GDT at 0x7000; stack top <see cref="PcLayout.DefaultStackTop"/>;
/// general registers zero except the stack pointer.</para>
/// </remarks>
public static class GuestExport
{
    /// <summary>Size of the firmware image: QEMU maps it below 1 MiB and below 4 GiB.</summary>
    public const int BiosSize = 0x1_0000;

    /// <summary>Guest-physical address where QEMU's pc machine maps a 64 KiB BIOS below 1 MiB.</summary>
    public const uint BiosBase = 0xF_0000;

    /// <summary>Largest payload the firmware image can carry (everything below the trampoline).</summary>
    public const int MaxPayload = TrampolineRomOffset;

    /// <summary>Selector of the flat 32-bit code segment in the firmware's GDT.</summary>
    public const ushort Code32Selector = 0x08;

    /// <summary>Selector of the flat data segment in the firmware's GDT.</summary>
    public const ushort DataSelector = 0x10;

    /// <summary>Selector of the 64-bit code segment in the firmware's GDT.</summary>
    public const ushort Code64Selector = 0x18;

    private const int TrampolineRomOffset = 0xF000;
    private const int StubRomOffset = 0xFC00;
    private const int ResetVectorOffset = 0xFFF0;

    // The trampoline runs from the top page of the loader area, below the stack; the GDT at its start outlives it.
    private const uint TrampolineBase = 0x7000;
    private const uint GdtrAddress = TrampolineBase + 0x20;
    private const uint Code16Address = TrampolineBase + 0x40;
    private const uint Code32Address = TrampolineBase + 0x100;
    private const uint Code64Address = TrampolineBase + 0x200;
    private const int TrampolineSize = 0x300;

    /// <summary>The firmware's GDT, also the modes guest's: null, flat 32-bit code (0x08), flat data (0x10), 64-bit code
    /// (0x18). Access byte 0x9B = present, ring 0, code, exec/read, accessed; 0x93 = data, read/write, accessed; flags
    /// nibble 0xC = G|D (32-bit), 0xA = G|L (64-bit code).</summary>
    internal static IReadOnlyList<ulong> FlatGdt { get; } = [0, 0x00CF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF, 0x00AF_9B00_0000_FFFF];

    private const uint Pml4 = 0x1000;
    private const uint Pdpt = 0x2000;
    private const uint PageDirectories = 0x3000;
    private const uint PageTablesEnd = 0x7000;

    /// <summary>The bytes to place at <see cref="GuestImage.LoadAddress"/> (a copy of the image).</summary>
    public static byte[] ToFlat(GuestImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return (byte[])image.Bytes.Clone();
    }

    /// <summary>A 64 KiB firmware image for <c>qemu-system-x86_64 -bios</c> that loads and enters <paramref name="image"/>.</summary>
    public static byte[] ToQemuBios(GuestImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Bytes.Length > MaxPayload)
            throw new ArgumentException($"The payload is {image.Bytes.Length} bytes; the firmware image carries at most 0x{MaxPayload:X}.", nameof(image));
        if (image.LoadAddress < PcLayout.LoaderAreaEnd)
            throw new ArgumentException($"Load address 0x{image.LoadAddress:X} overlaps the loader area 0x{PcLayout.LoaderAreaBase:X}..0x{PcLayout.LoaderAreaEnd:X}.", nameof(image));

        var rom = new byte[BiosSize];
        image.Bytes.CopyTo(rom, 0);
        if (image.Mode != CpuMode.Real)
            Trampoline(image).CopyTo(rom, TrampolineRomOffset);
        var stub = Encode(RealModeStub(image), StubRomOffset);
        if (stub.Length > ResetVectorOffset - StubRomOffset)
            throw new InvalidOperationException("The firmware stub outgrew its slot.");
        stub.CopyTo(rom, StubRomOffset);

        var reset = new Assembler(16);
        reset.jmp((ushort)(BiosBase >> 4), StubRomOffset);
        Encode(reset, ResetVectorOffset).CopyTo(rom, ResetVectorOffset);
        return rom;
    }

    private static Assembler RealModeStub(GuestImage image)
    {
        var a = new Assembler(16);
        a.cli();
        a.cld();
        a.xor(ax, ax);
        a.mov(ss, ax);
        a.mov(sp, (ushort)PcLayout.DefaultStackTop);
        // Port 0x92 bit 1 opens the A20 gate; bit 0 would reset the machine, so keep it clear.
        a.@in(al, 0x92);
        a.or(al, 2);
        a.and(al, unchecked((sbyte)0xFE));
        a.@out(0x92, al);

        a.mov(ax, (ushort)(BiosBase >> 4));
        a.mov(ds, ax);
        if (image.Mode == CpuMode.Real)
        {
            if (image.LoadAddress + (ulong)image.Bytes.Length > 0xA_0000)
                throw new ArgumentException($"A real-mode payload must fit below 0xA0000; it loads at 0x{image.LoadAddress:X}.", nameof(image));
            var segment = (ushort)(image.LoadAddress >> 4);
            a.mov(ax, segment);
            a.mov(es, ax);
            a.xor(si, si);
            a.mov(di, (ushort)(image.LoadAddress & 0xF));
            a.mov(cx, (ushort)image.Bytes.Length);
            a.rep.movsb();
            a.xor(ax, ax);
            a.mov(ds, ax);
            a.mov(es, ax);
            a.jmp(segment, (uint)(image.Entry - ((ulong)segment << 4)));
        }
        else
        {
            a.xor(ax, ax);
            a.mov(es, ax);
            a.mov(si, TrampolineRomOffset);
            a.mov(di, (ushort)TrampolineBase);
            a.mov(cx, TrampolineSize);
            a.rep.movsb();
            a.mov(ds, ax);
            a.jmp(0, Code16Address);
        }
        return a;
    }

    private static byte[] Trampoline(GuestImage image)
    {
        var t = new byte[TrampolineSize];
        for (var i = 0; i < FlatGdt.Count; i++)
            BitConverter.TryWriteBytes(t.AsSpan(i * 8), FlatGdt[i]);
        BitConverter.TryWriteBytes(t.AsSpan((int)(GdtrAddress - TrampolineBase)), (ushort)(FlatGdt.Count * 8 - 1));
        BitConverter.TryWriteBytes(t.AsSpan((int)(GdtrAddress - TrampolineBase) + 2), TrampolineBase);

        var a16 = new Assembler(16);
        a16.lgdt(__[GdtrAddress]);
        SetProtectionEnable(a16);
        a16.jmp(Code32Selector, Code32Address);
        Place(t, a16, Code16Address, Code32Address);

        var a32 = new Assembler(32);
        LoadFlatDataSegments(a32, fsAndGs: true);
        a32.mov(esi, BiosBase);
        a32.mov(edi, (uint)image.LoadAddress);
        a32.mov(ecx, image.Bytes.Length);
        a32.rep.movsb();
        if (image.Mode == CpuMode.Protected)
        {
            ClearAndEnter32(a32, image.Entry);
        }
        else
        {
            EnterLongMode(a32, Code64Address);
        }
        Place(t, a32, Code32Address, Code64Address);

        if (image.Mode == CpuMode.Long)
        {
            var a64 = new Assembler(64);
            LoadFlatDataSegments(a64, fsAndGs: true);
            a64.mov(rax, image.Entry);
            a64.push(rax);
            foreach (var r in new[] { rax, rbx, rcx, rdx, rsi, rdi, rbp })
                a64.xor(r, r);
            a64.ret();
            Place(t, a64, Code64Address, TrampolineBase + TrampolineSize);
        }
        return t;
    }

    // Real mode: CR0.PE := 1; the far jump that follows loads a protected-mode CS.
    internal static void SetProtectionEnable(Assembler a)
    {
        a.mov(eax, cr0);
        a.or(eax, (int)Cr0ProtectionEnable);
        a.mov(cr0, eax);
    }

    // Protected mode, flat: the data selector into DS, ES, SS (and FS, GS), the stack pointer to the stack top.
    internal static void LoadFlatDataSegments(Assembler a, bool fsAndGs)
    {
        a.mov(ax, DataSelector);
        a.mov(ds, ax);
        a.mov(es, ax);
        a.mov(ss, ax);
        if (fsAndGs)
        {
            a.mov(fs, ax);
            a.mov(gs, ax);
        }
        if (a.Bitness == 64)
            a.mov(rsp, PcLayout.DefaultStackTop);
        else
            a.mov(esp, (uint)PcLayout.DefaultStackTop);
    }

    // 32-bit protected mode to long mode: identity-map 4 GiB, CR4.PAE, CR3 = PML4, EFER.LME, CR0.PG (which activates
    // long mode), then a far jump to the 64-bit code at target.
    internal static void EnterLongMode(Assembler a, uint target)
    {
        BuildIdentityMap(a);
        a.mov(eax, cr4);
        a.or(eax, (int)Cr4PhysicalAddressExtension);
        a.mov(cr4, eax);
        a.mov(eax, Pml4);
        a.mov(cr3, eax);
        a.mov(ecx, EferMsr);
        a.rdmsr();
        a.or(eax, (int)EferLongModeEnable);
        a.wrmsr();
        a.mov(eax, cr0);
        a.or(eax, unchecked((int)Cr0Paging));
        a.mov(cr0, eax);
        a.jmp(Code64Selector, target);
    }

    // PML4[0] -> PDPT; PDPT[0..3] -> four page directories; each PD entry maps a 2 MiB page (PS bit 7).
    private static void BuildIdentityMap(Assembler a)
    {
        var fill = a.CreateLabel();
        var pdpt = a.CreateLabel();
        a.xor(eax, eax);
        a.mov(edi, Pml4);
        a.mov(ecx, (int)((PageTablesEnd - Pml4) / 4));
        a.rep.stosd();
        a.mov(__dword_ptr[Pml4], Pdpt | 3);
        a.xor(ecx, ecx);
        a.Label(ref pdpt);
        a.lea(eax, __[ecx * 8 + (int)(PageDirectories >> 9)]);
        a.shl(eax, 9);
        a.or(eax, 3);
        a.mov(__dword_ptr[ecx * 8 + (int)Pdpt], eax);
        a.inc(ecx);
        a.cmp(ecx, 4);
        a.jb(pdpt);
        a.xor(ecx, ecx);
        a.Label(ref fill);
        a.mov(eax, ecx);
        a.shl(eax, 21);
        a.or(eax, 0x83);
        a.mov(__dword_ptr[ecx * 8 + (int)PageDirectories], eax);
        a.inc(ecx);
        a.cmp(ecx, 4 * 512);
        a.jb(fill);
    }

    private static void ClearAndEnter32(Assembler a, ulong entry)
    {
        a.push((uint)entry);
        foreach (var r in new[] { eax, ebx, ecx, edx, esi, edi, ebp })
            a.xor(r, r);
        a.ret();
    }

    private static void Place(byte[] trampoline, Assembler code, uint address, uint limit)
    {
        var bytes = Encode(code, address);
        if (address + bytes.Length > limit)
            throw new InvalidOperationException($"Trampoline code at 0x{address:X} outgrew its slot (ends at 0x{address + bytes.Length:X}, limit 0x{limit:X}).");
        bytes.CopyTo(trampoline, (int)(address - TrampolineBase));
    }

    private static byte[] Encode(Assembler code, ulong origin)
    {
        using var stream = new MemoryStream();
        code.Assemble(new StreamCodeWriter(stream), origin);
        return stream.ToArray();
    }
}
