using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

// PCI configuration access: CONFIG_ADDRESS and ECAM addresses (PciAddress holds the layout), the conf1 and ECAM
// helpers, and the routines they call.
public sealed partial class GuestAssembler
{
    /// <summary>
    /// The configuration address of a function's register in conf1's CONFIG_ADDRESS layout without the enable bit:
    /// <c>bus&lt;&lt;16 | device&lt;&lt;11 | function&lt;&lt;8 | offset</c>. <see cref="ConfigRead32"/> and
    /// <see cref="ConfigWrite32"/> take it in EAX for either access method.
    /// </summary>
    public static uint ConfigAddress(int bus, int device, int function, int offset)
    {
        CheckFunction(bus, device, function);
        if ((uint)offset > 255) throw new ArgumentOutOfRangeException(nameof(offset), "conf1 reaches the first 256 bytes.");
        // PciAddress holds the layout; the guests' routines add the enable bit themselves, and keep bits 1:0.
        return (new KvmLab.Pci.PciAddress(bus, device, function).ConfigAddress(offset) & ~PciHostEnable) | (uint)(offset & 3);
    }

    /// <summary>
    /// <see cref="ConfigAddress"/> for any of a PCI Express function's 4 KiB: register bits 11:8 travel in bits 27:24,
    /// which CONFIG_ADDRESS leaves reserved, so <see cref="ConfigRead32"/> through ECAM reaches extended registers
    /// (conf1 ignores those bits and reaches only the first 256 bytes, as on real hardware).
    /// </summary>
    public static uint ExtendedConfigAddress(int bus, int device, int function, int offset)
    {
        if ((uint)offset > 4095) throw new ArgumentOutOfRangeException(nameof(offset));
        return ConfigAddress(bus, device, function, offset & 0xFF) | (uint)(offset >> 8) << 24;
    }

    private const uint PciHostEnable = KvmLab.Pci.PciHost.ConfigAddressEnable;

    /// <summary>The ECAM offset of a configuration register, relative to <see cref="PcLayout.EcamBase"/>.</summary>
    public static ulong EcamOffset(int bus, int device, int function, int offset)
    {
        CheckFunction(bus, device, function);
        if ((uint)offset > 4095) throw new ArgumentOutOfRangeException(nameof(offset));
        return new KvmLab.Pci.PciAddress(bus, device, function).EcamOffset(offset);
    }

    // The guests' own range checks, so that a wrong number names its parameter before PciAddress sees it.
    private static void CheckFunction(int bus, int device, int function)
    {
        if ((uint)bus > 255) throw new ArgumentOutOfRangeException(nameof(bus));
        if ((uint)device > 31) throw new ArgumentOutOfRangeException(nameof(device));
        if ((uint)function > 7) throw new ArgumentOutOfRangeException(nameof(function));
    }

    /// <summary>Reads a dword of configuration space: EAX = <see cref="ConfigAddress"/> in, the dword out.</summary>
    public void ConfigRead32(PciAccessMethod method) =>
        Asm.call(RoutineLabel(method == PciAccessMethod.Conf1 ? Routine.Conf1Read32 : Routine.EcamRead32));

    /// <summary>Writes EBX to the configuration dword at EAX = <see cref="ConfigAddress"/>.</summary>
    public void ConfigWrite32(PciAccessMethod method) =>
        Asm.call(RoutineLabel(method == PciAccessMethod.Conf1 ? Routine.Conf1Write32 : Routine.EcamWrite32));

    /// <summary>Reads 1, 2 or 4 bytes of a function's configuration space into A (zero-extended).</summary>
    public void ConfigRead(PciAccessMethod method, int bus, int device, int function, int offset, int size)
    {
        CheckConfigSize(offset, size);
        if (method == PciAccessMethod.Ecam)
        {
            MmioRead(PcLayout.EcamBase + EcamOffset(bus, device, function, offset), size);
            return;
        }
        SelectConf1(ConfigAddress(bus, device, function, offset));
        PortRead((ushort)(PcLayout.PciConfigDataPort + (offset & 3)), size);
    }

    /// <summary>Writes 1, 2 or 4 bytes of <paramref name="value"/> to a function's configuration space.</summary>
    public void ConfigWrite(PciAccessMethod method, int bus, int device, int function, int offset, int size, uint value)
    {
        CheckConfigSize(offset, size);
        if (method == PciAccessMethod.Ecam)
        {
            MmioWrite(PcLayout.EcamBase + EcamOffset(bus, device, function, offset), size, value);
            return;
        }
        SelectConf1(ConfigAddress(bus, device, function, offset));
        PortWrite((ushort)(PcLayout.PciConfigDataPort + (offset & 3)), size, value);
    }

    /// <summary>
    /// Scans bus 0 (function 0 of each slot) for <paramref name="vendor"/>:<paramref name="device"/>; leaves the
    /// function's <see cref="ConfigAddress"/> in EAX, or jumps to <paramref name="notFound"/>. Clobbers ESI.
    /// </summary>
    public void FindPciDevice(PciAccessMethod method, ushort vendor, ushort device, Label notFound)
    {
        var next = Asm.CreateLabel();
        var found = Asm.CreateLabel();
        Asm.xor(esi, esi);
        Asm.Label(ref next);
        Asm.mov(eax, esi);
        ConfigRead32(method);
        Asm.cmp(eax, (int)((uint)device << 16 | vendor));
        Asm.je(found);
        Asm.add(esi, 1 << 11);
        Asm.cmp(esi, 32 << 11);
        Asm.jb(next);
        Asm.jmp(notFound);
        Asm.Label(ref found);
        Asm.mov(eax, esi);
    }

    /// <summary>PCI command register bits the guests set: memory space decoding and bus mastering (DMA, MSI).</summary>
    internal const int CommandMemoryAndBusMaster = KvmLab.Pci.PciConfig.CommandMemory | KvmLab.Pci.PciConfig.CommandBusMaster;

    /// <summary>
    /// Emits the head of a walk over the capability list of the function at EBP: jump to <paramref name="noList"/> when
    /// the status register says there is none, else <paramref name="cursor"/> = the pointer at 0x34; then, at
    /// <paramref name="walk"/> (bound here), drop the pointer's reserved bits 1:0, jump to <paramref name="end"/> at the
    /// null pointer, and read the capability's first dword (ID in AL, next pointer in AH) into EAX. The caller loops
    /// back to <paramref name="walk"/> with the next pointer in <paramref name="cursor"/>.
    /// </summary>
    internal void BeginCapabilityWalk(PciAccessMethod method, AssemblerRegister32 cursor, Label noList, Label walk, Label end)
    {
        Asm.lea(eax, __[ebp + KvmLab.Pci.PciConfig.Command]);
        ConfigRead32(method);
        // The status register is the dword's upper half.
        Asm.test(eax, KvmLab.Pci.PciConfig.StatusCapabilityList << 16);
        Asm.jz(noList);
        Asm.lea(eax, __[ebp + KvmLab.Pci.PciConfig.CapabilityPointer]);
        ConfigRead32(method);
        Asm.movzx(cursor, al);
        Asm.Label(ref walk);
        Asm.and(cursor, 0xFC);
        Asm.jz(end);
        Asm.lea(eax, __[ebp + cursor]);
        ConfigRead32(method);
    }

    /// <summary>
    /// <see cref="FindPciDevice"/> through conf1, then keep the function's config address in EBP and print
    /// "<paramref name="announcement"/> at 00:DD.0".
    /// </summary>
    internal void FindAndAnnounce(ushort vendor, ushort device, string announcement, Label notFound)
    {
        FindPciDevice(PciAccessMethod.Conf1, vendor, device, notFound);
        Asm.mov(ebp, eax);
        Print($"{announcement} at 00:");
        Asm.shr(eax, 11);
        PrintHex(2);
        PrintLine(".0");
    }

    /// <summary>Emits: write <paramref name="value"/> to the dword at <paramref name="offset"/> of the function whose
    /// config address is in EBP. Clobbers EAX and EBX.</summary>
    internal void WriteFunctionConfig32(PciAccessMethod method, int offset, uint value)
    {
        Asm.lea(eax, __[ebp + offset]);
        Asm.mov(ebx, value);
        ConfigWrite32(method);
    }

    private void SelectConf1(uint configAddress)
    {
        Asm.mov(dx, PcLayout.PciConfigAddressPort);
        Asm.mov(eax, PciHostEnable | configAddress & ~3u);
        Asm.@out(dx, eax);
    }

    private static void CheckConfigSize(int offset, int size)
    {
        if (size is not (1 or 2 or 4))
            throw new ArgumentOutOfRangeException(nameof(size), "Configuration accesses are 1, 2 or 4 bytes.");
        if (offset % size != 0)
            throw new ArgumentException($"Offset 0x{offset:X} is not aligned to the {size}-byte access.", nameof(offset));
    }

    // EAX = config address (no enable bit); read: EAX = dword; write: EBX = dword.
    private void EmitConf1(bool write)
    {
        Push(Gp.D);
        if (write)
            Push(Gp.A);
        Asm.or(eax, unchecked((int)PciHostEnable));
        Asm.and(eax, ~3);
        Asm.mov(dx, PcLayout.PciConfigAddressPort);
        Asm.@out(dx, eax);
        Asm.mov(dx, PcLayout.PciConfigDataPort);
        if (write)
        {
            Asm.mov(eax, ebx);
            Asm.@out(dx, eax);
            Pop(Gp.A);
        }
        else
        {
            Asm.@in(eax, dx);
        }
        Pop(Gp.D);
        Asm.ret();
    }

    // EAX = config address; the bus/device/function field moves up 4 bits to become the ECAM offset, and bits 27:24
    // (extended registers, see ExtendedConfigAddress) become register bits 11:8.
    private void EmitEcam(bool write)
    {
        // EDI doubles as the pointer, so the same code serves 32-bit ([edi]) and 64-bit ([rdi]) guests.
        Push(Gp.Di);
        Push(Gp.A);
        Push(Gp.C);
        Asm.mov(ecx, eax);
        Asm.shr(ecx, 16);
        Asm.and(ecx, 0xF00);
        Asm.mov(edi, eax);
        Asm.and(edi, 0xFF);
        Asm.or(edi, ecx);
        Asm.and(eax, 0xFF_FF00);
        Asm.shl(eax, 4);
        Asm.or(edi, eax);
        Asm.add(edi, unchecked((int)(uint)PcLayout.EcamBase));
        Pop(Gp.C);
        Pop(Gp.A);
        var p = Bitness == 64 ? __dword_ptr[rdi] : __dword_ptr[edi];
        if (write)
            Asm.mov(p, ebx);
        else
            Asm.mov(eax, p);
        Pop(Gp.Di);
        Asm.ret();
    }
}
