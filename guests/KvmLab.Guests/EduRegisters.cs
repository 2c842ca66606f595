using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>
/// What the edu guests use of QEMU's educational device: its register map as offsets into BAR0, taken from the device
/// model (<see cref="KvmLab.Devices.Edu"/>, the one source of the map) in the int form the assembler wants, and where
/// the guests place BAR0. The guests program BAR0 themselves, as nothing else assigns BARs here.
/// </summary>
public static class EduRegisters
{
    /// <summary>PCI vendor ID of edu.</summary>
    public const ushort VendorId = KvmLab.Devices.Edu.VendorIdEdu;

    /// <summary>PCI device ID of edu.</summary>
    public const ushort DeviceId = KvmLab.Devices.Edu.DeviceIdEdu;

    /// <summary>Where the guests place BAR0 (1 MiB): the start of the MMIO BAR window.</summary>
    public const uint Bar0 = (uint)PcLayout.PciMmioWindowBase;

    /// <summary>Size of BAR0.</summary>
    public const uint Bar0Size = (uint)KvmLab.Devices.Edu.MmioSize;

    /// <summary>0x00 R: identification, 0x010000ED.</summary>
    public const int Identification = (int)KvmLab.Devices.Edu.RegIdentification;

    /// <summary>0x04 RW: liveness check, reads back the bitwise NOT of the last value written.</summary>
    public const int Liveness = (int)KvmLab.Devices.Edu.RegLiveness;

    /// <summary>0x08 RW: factorial; write n, read n! once the busy bit clears.</summary>
    public const int Factorial = (int)KvmLab.Devices.Edu.RegFactorial;

    /// <summary>0x20 RW: status; bit 0 busy (read-only), bit 7 raise interrupt 0x01 when a factorial completes.</summary>
    public const int Status = (int)KvmLab.Devices.Edu.RegStatus;

    /// <summary>0x24 R: interrupt status.</summary>
    public const int InterruptStatus = (int)KvmLab.Devices.Edu.RegInterruptStatus;

    /// <summary>0x60 W: raise interrupt (ORed into the interrupt status).</summary>
    public const int InterruptRaise = (int)KvmLab.Devices.Edu.RegInterruptRaise;

    /// <summary>0x64 W: acknowledge interrupt (clears the written bits).</summary>
    public const int InterruptAcknowledge = (int)KvmLab.Devices.Edu.RegInterruptAck;

    /// <summary>0x80 RW: DMA source address.</summary>
    public const int DmaSource = (int)KvmLab.Devices.Edu.RegDmaSource;

    /// <summary>0x88 RW: DMA destination address.</summary>
    public const int DmaDestination = (int)KvmLab.Devices.Edu.RegDmaDestination;

    /// <summary>0x90 RW: DMA byte count.</summary>
    public const int DmaCount = (int)KvmLab.Devices.Edu.RegDmaCount;

    /// <summary>0x98 RW: DMA command; bit 0 start/busy, bit 1 direction (1: device to RAM), bit 2 interrupt when done.</summary>
    public const int DmaCommand = (int)KvmLab.Devices.Edu.RegDmaCommand;

    /// <summary>Device address of edu's 4 KiB DMA buffer.</summary>
    public const uint DmaBuffer = (uint)KvmLab.Devices.Edu.DmaBufferAddress;

    /// <summary>Status bit 0: a factorial is being computed.</summary>
    public const uint StatusBusy = KvmLab.Devices.Edu.StatusComputing;

    /// <summary>Status bit 7: raise interrupt 0x01 when a factorial completes.</summary>
    public const uint StatusFactorialInterrupt = KvmLab.Devices.Edu.StatusIrqOnFactorial;

    /// <summary>
    /// Emits: read n! from <see cref="Factorial"/> and print "<paramref name="prefix"/>n! = value" with n taken from
    /// EBX. Clobbers EAX and ECX.
    /// </summary>
    internal static void ReadAndPrintFactorial(GuestAssembler g, string prefix)
    {
        var a = g.Asm;
        g.MmioRead(Bar0 + Factorial, 4);
        a.mov(ecx, eax);
        g.Print(prefix);
        a.mov(eax, ebx);
        g.PrintDecimal();
        g.Print("! = ");
        a.mov(eax, ecx);
        g.PrintDecimal();
        g.PrintLine("");
    }

    /// <summary>
    /// Emits: find edu on bus 0, program BAR0 to <see cref="Bar0"/>, enable memory decoding and bus mastering,
    /// print where it was found. Leaves edu's <see cref="GuestAssembler.ConfigAddress"/> in EBP.
    /// </summary>
    internal static void FindAndEnable(GuestAssembler g, string prefix, Label notFound)
    {
        g.FindAndAnnounce(VendorId, DeviceId, $"{prefix}: edu 1234:11e8", notFound);
        EnableBar(g, 0x10, Bar0, GuestAssembler.CommandMemoryAndBusMaster);
        g.PrintLine($"{prefix}: BAR0 programmed to 0x{Bar0:X8}, memory decoding and bus mastering on");
    }

    /// <summary>Writes <paramref name="address"/> to the BAR at <paramref name="barOffset"/> of the function at EBP and ORs <paramref name="command"/> into its command register.</summary>
    internal static void EnableBar(GuestAssembler g, int barOffset, uint address, int command)
    {
        g.Asm.mov(eax, ebp);
        g.Asm.add(eax, barOffset);
        g.Asm.mov(ebx, address);
        g.ConfigWrite32(PciAccessMethod.Conf1);
        g.Asm.mov(eax, ebp);
        g.Asm.add(eax, 4);
        g.ConfigRead32(PciAccessMethod.Conf1);
        // Keep the status half zero: its bits are write-one-to-clear.
        g.Asm.and(eax, 0xFFFF);
        g.Asm.or(eax, command);
        g.Asm.mov(ebx, eax);
        g.Asm.mov(eax, ebp);
        g.Asm.add(eax, 4);
        g.ConfigWrite32(PciAccessMethod.Conf1);
    }

    /// <summary>Emits: print <paramref name="message"/> and exit with <see cref="GuestAssembler.ExitFailure"/>.</summary>
    internal static void Fail(GuestAssembler g, ref Label at, string message)
    {
        g.Asm.Label(ref at);
        g.PrintLine(message);
        g.IsaDebugExit(GuestAssembler.ExitFailure);
    }
}
