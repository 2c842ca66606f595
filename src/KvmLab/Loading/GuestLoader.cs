using KvmLab.Kvm;
using static KvmLab.Kvm.ControlRegisterBits;

namespace KvmLab.Loading;

/// <summary>
/// Puts a <see cref="GuestImage"/> into guest RAM and the vCPU into the image's CPU mode, as firmware or a boot
/// loader would. Loader structures live in <see cref="PcLayout.LoaderAreaBase"/>..<see cref="PcLayout.LoaderAreaEnd"/>:
/// <list type="table">
/// <item><term>0x1000</term><description>PML4 (long mode): one entry, to the PDPT</description></item>
/// <item><term>0x2000</term><description>PDPT: four entries, to the page directories</description></item>
/// <item><term>0x3000-0x6FFF</term><description>four page directories: 2 MiB pages identity-mapping 0..4 GiB</description></item>
/// <item><term>0x7000-0x7FEF</term><description>the stack, growing down from <see cref="PcLayout.DefaultStackTop"/></description></item>
/// <item><term>0x7FE8-0x7FFF</term><description>the GDT: its null entry shares the stack's top slot (the CPU never reads entry 0)</description></item>
/// </list>
/// </summary>
internal static class GuestLoader
{
    /// <summary>GDT selector of the flat code segment (32-bit in protected mode, 64-bit in long mode).</summary>
    public const ushort CodeSelector = 0x08;

    /// <summary>GDT selector of the flat read/write data segment.</summary>
    public const ushort DataSelector = 0x10;

    /// <summary>Guest-physical address of the GDT (see the class remarks for why it sits above the stack top).</summary>
    public const ulong GdtAddress = PcLayout.DefaultStackTop - 8;

    /// <summary>Guest-physical address of the PML4 (CR3 in long mode).</summary>
    public const ulong Pml4Address = PcLayout.LoaderAreaBase;

    private const ulong PdptAddress = Pml4Address + 0x1000;
    private const ulong FirstPageDirectory = PdptAddress + 0x1000;
    private const int PageDirectories = 4;
    private const ulong RealModeLimit = 0x10_0000;

    private const ulong PagePresentWritable = 0x3;
    private const ulong PageLarge = 1UL << 7;

    // Flat descriptors: base 0, limit 0xFFFFF pages, G=1; access byte 0x9B = present, ring 0, code, exec/read,
    // accessed; 0x93 = data, read/write, accessed. Flags nibble 0xC = G|D (32-bit), 0xA = G|L (64-bit code).
    private const ulong Code32Descriptor = 0x00CF_9B00_0000_FFFF;
    private const ulong Code64Descriptor = 0x00AF_9B00_0000_FFFF;
    private const ulong Data32Descriptor = 0x00CF_9300_0000_FFFF;

    /// <summary>
    /// Validates <paramref name="image"/>, copies it into <paramref name="ram"/>, writes the GDT and page tables its
    /// mode needs, sets the TSS address on <paramref name="vm"/> if none is set, and loads the registers of
    /// <paramref name="vcpu"/> so that the next Run starts at the image's entry point.
    /// </summary>
    /// <exception cref="ArgumentException">The image overlaps the loader area, does not fit in RAM, has its entry
    /// outside itself, or (real mode) lies above 1 MiB or cannot be reached from one 64 KiB segment.</exception>
    public static void Load(Vm vm, GuestMemory ram, Vcpu vcpu, GuestImage image)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(ram);
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentNullException.ThrowIfNull(image);
        Validate(ram, image);

        if (vm.TssAddress is null)
            vm.SetTssAddress();
        image.Bytes.CopyTo(ram.GetSpan(image.LoadAddress, image.Bytes.Length));

        var sregs = vcpu.GetSpecialRegisters();
        ResetToPowerOnState(ref sregs);
        var regs = default(Registers);
        regs.Rflags = 0x2;
        regs.Rsp = PcLayout.DefaultStackTop;
        switch (image.Mode)
        {
            case CpuMode.Real:
                SetRealMode(ref sregs, ref regs, image);
                break;
            case CpuMode.Protected:
                WriteGdt(ram, Code32Descriptor);
                SetFlat(ref sregs, longMode: false);
                sregs.Cr0 = (sregs.Cr0 | Cr0ProtectionEnable | Cr0ExtensionType) & ~Cr0Paging;
                regs.Rip = image.Entry;
                break;
            case CpuMode.Long:
                WriteGdt(ram, Code64Descriptor);
                WritePageTables(ram);
                SetFlat(ref sregs, longMode: true);
                sregs.Cr3 = Pml4Address;
                sregs.Cr4 |= Cr4PhysicalAddressExtension;
                sregs.Efer |= EferLongModeEnable | EferLongModeActive;
                sregs.Cr0 |= Cr0ProtectionEnable | Cr0ExtensionType | Cr0Paging;
                regs.Rip = image.Entry;
                break;
            default:
                throw new ArgumentException($"Unknown CPU mode {image.Mode} in image '{image.Name}'.", nameof(image));
        }
        vcpu.SetSpecialRegisters(sregs);
        vcpu.SetRegisters(regs);
        // A previous guest may have ended halted; the new one must start executing.
        vcpu.SetMpState(MpState.Runnable);
    }

    private static void Validate(GuestMemory ram, GuestImage image)
    {
        ulong start = image.LoadAddress;
        ulong length = (ulong)image.Bytes.Length;
        string range = $"0x{start:X}..+0x{length:X}";
        if (length == 0)
            throw new ArgumentException($"Image '{image.Name}' is empty.", nameof(image));
        if (start < PcLayout.LoaderAreaEnd)
            throw new ArgumentException(
                $"Image '{image.Name}' at {range} overlaps the loader area 0x0..+0x{PcLayout.LoaderAreaEnd:X} " +
                $"(IVT, GDT, page tables, stack): load it at 0x{PcLayout.LoaderAreaEnd:X} or above.", nameof(image));
        if (!ram.Contains(start, length))
            throw new ArgumentException(
                $"Image '{image.Name}' at {range} does not fit in guest RAM 0x{ram.GuestPhysicalAddress:X}..+0x{ram.Size:X}.", nameof(image));
        if (image.Entry < start || image.Entry >= start + length)
            throw new ArgumentException(
                $"Entry point 0x{image.Entry:X} of image '{image.Name}' is outside the image {range}.", nameof(image));
        if (image.Mode == CpuMode.Real)
        {
            if (start + length > RealModeLimit)
                throw new ArgumentException(
                    $"Real-mode image '{image.Name}' at {range} reaches beyond 1 MiB (0x{RealModeLimit:X}), which real mode cannot address.", nameof(image));
            if (image.Entry - (start & ~0xFUL) > 0xFFFF)
                throw new ArgumentException(
                    $"Entry point 0x{image.Entry:X} of real-mode image '{image.Name}' is more than 64 KiB past its segment base 0x{start & ~0xFUL:X}.", nameof(image));
        }
        if (image.Mode != CpuMode.Long && image.Entry > uint.MaxValue)
            throw new ArgumentException($"Entry point 0x{image.Entry:X} of {image.Mode}-mode image '{image.Name}' is above 4 GiB.", nameof(image));
    }

    // The previous guest on this vCPU may have left paging, long mode, an IDT, a task register or a pending interrupt
    // behind, and KVM_SET_SREGS refuses some mixes (EFER.LMA without CR0.PG). Every load starts from the state the CPU
    // has after RESET (Intel SDM vol. 3, "IA-32 Processor States Following Power-up, Reset, or INIT"), so a load does
    // not depend on what ran before. The APIC base is kept: it is the in-kernel LAPIC's, not the guest's.
    private static unsafe void ResetToPowerOnState(ref SpecialRegisters sregs)
    {
        sregs.Cr0 = Cr0CacheDisable | Cr0NotWriteThrough | Cr0ExtensionType;
        sregs.Cr2 = 0;
        sregs.Cr3 = 0;
        sregs.Cr4 = 0;
        sregs.Cr8 = 0;
        sregs.Efer = 0;
        sregs.Gdt.Base = 0;
        sregs.Gdt.Limit = 0xFFFF;
        sregs.Idt.Base = 0;
        sregs.Idt.Limit = 0xFFFF;
        sregs.Cs = RealSegment(0, 0xB);
        sregs.Ds = RealSegment(0, 0x3);
        sregs.Es = RealSegment(0, 0x3);
        sregs.Fs = RealSegment(0, 0x3);
        sregs.Gs = RealSegment(0, 0x3);
        sregs.Ss = RealSegment(0, 0x3);
        sregs.Tr = new Segment { Limit = 0xFFFF, Type = 0xB, Present = 1 };
        sregs.Ldt = new Segment { Limit = 0xFFFF, Type = 0x2, Present = 1 };
        for (int i = 0; i < 4; i++)
            sregs.Raw.interrupt_bitmap[i] = 0;
    }

    private static Segment RealSegment(ushort selector, byte type) =>
        new() { Selector = selector, Base = (ulong)selector << 4, Limit = 0xFFFF, Type = type, Present = 1, S = 1 };

    private static void SetRealMode(ref SpecialRegisters sregs, ref Registers regs, GuestImage image)
    {
        ulong segmentBase = image.LoadAddress & ~0xFUL;
        var segment = (ushort)(segmentBase >> 4);
        SetRealSegment(ref sregs.Cs, segment);
        SetRealSegment(ref sregs.Ds, segment);
        SetRealSegment(ref sregs.Es, segment);
        SetRealSegment(ref sregs.Fs, 0);
        SetRealSegment(ref sregs.Gs, 0);
        SetRealSegment(ref sregs.Ss, 0);
        sregs.Cr0 &= ~(Cr0ProtectionEnable | Cr0Paging);
        regs.Rip = image.Entry - segmentBase;
    }

    private static void SetRealSegment(ref Segment segment, ushort selector)
    {
        segment.Selector = selector;
        segment.Base = (ulong)selector << 4;
        segment.Limit = 0xFFFF;
    }

    private static void SetFlat(ref SpecialRegisters sregs, bool longMode)
    {
        var code = new Segment
        {
            Base = 0, Limit = 0xFFFF_FFFF, Selector = CodeSelector, Type = 0xB, Present = 1, Dpl = 0, S = 1, G = 1,
            Db = longMode ? (byte)0 : (byte)1, L = longMode ? (byte)1 : (byte)0,
        };
        var data = new Segment
        {
            Base = 0, Limit = 0xFFFF_FFFF, Selector = DataSelector, Type = 0x3, Present = 1, Dpl = 0, S = 1, G = 1, Db = 1,
        };
        sregs.Cs = code;
        sregs.Ds = data;
        sregs.Es = data;
        sregs.Fs = data;
        sregs.Gs = data;
        sregs.Ss = data;
        sregs.Gdt.Base = GdtAddress;
        sregs.Gdt.Limit = 3 * 8 - 1;
    }

    private static void WriteGdt(GuestMemory ram, ulong codeDescriptor)
    {
        ram.Write(GdtAddress, 0UL);
        ram.Write(GdtAddress + CodeSelector, codeDescriptor);
        ram.Write(GdtAddress + DataSelector, Data32Descriptor);
    }

    private static void WritePageTables(GuestMemory ram)
    {
        ram.GetSpan(Pml4Address, (int)(FirstPageDirectory + PageDirectories * 0x1000 - Pml4Address)).Clear();
        ram.Write(Pml4Address, PdptAddress | PagePresentWritable);
        for (int d = 0; d < PageDirectories; d++)
        {
            ulong directory = FirstPageDirectory + (ulong)d * 0x1000;
            ram.Write(PdptAddress + (ulong)d * 8, directory | PagePresentWritable);
            for (int e = 0; e < 512; e++)
            {
                ulong physical = ((ulong)d << 30) | ((ulong)e << 21);
                ram.Write(directory + (ulong)e * 8, physical | PagePresentWritable | PageLarge);
            }
        }
    }
}
