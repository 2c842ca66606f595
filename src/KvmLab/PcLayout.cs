namespace KvmLab;

/// <summary>
/// The guest-physical and port map of a KvmLab machine. It follows QEMU's <c>pc</c> machine where the two can
/// agree (COM1, conf1 ports, isa-debug-exit, PCI slot numbers of <c>-device edu</c> on <c>-M pc -nodefaults</c>),
/// so that the same guest runs under both. Guests, devices and loaders all read it from here.
/// </summary>
public static class PcLayout
{
    /// <summary>Default guest RAM size (QEMU's <c>-m 16</c>), mapped at guest-physical 0.</summary>
    public const ulong DefaultRamSize = 16UL << 20;

    /// <summary>First page the loaders may use for their own structures (GDT, IDT, page tables).</summary>
    public const ulong LoaderAreaBase = 0x1000;

    /// <summary>End (exclusive) of the loader area; guests must not load below this address.</summary>
    public const ulong LoaderAreaEnd = 0x8000;

    /// <summary>Initial stack pointer the loaders give a guest (grows down, below the loader area end).</summary>
    public const ulong DefaultStackTop = 0x7FF0;

    /// <summary>Where flat 16-bit guests are loaded by default (CS = 0x1000, IP = 0).</summary>
    public const ulong DefaultRealModeLoadAddress = 0x10000;

    /// <summary>Where flat 32- and 64-bit guests are loaded by default (1 MiB, like a kernel).</summary>
    public const ulong DefaultFlatLoadAddress = 0x100000;

    /// <summary>Where a flat image of <paramref name="mode"/> is loaded when no address is given.</summary>
    public static ulong DefaultLoadAddress(Loading.CpuMode mode) =>
        mode == Loading.CpuMode.Real ? DefaultRealModeLoadAddress : DefaultFlatLoadAddress;

    /// <summary>PCI configuration mechanism #1 address port (CONFIG_ADDRESS).</summary>
    public const ushort PciConfigAddressPort = 0xCF8;

    /// <summary>PCI configuration mechanism #1 data ports (CONFIG_DATA, 0xCFC-0xCFF).</summary>
    public const ushort PciConfigDataPort = 0xCFC;

    /// <summary>Guest-physical base of the PCIe ECAM window (as on QEMU's q35: MCFG at 0xB0000000).</summary>
    public const ulong EcamBase = 0xB000_0000;

    /// <summary>Size of the ECAM window: 256 buses x 32 devices x 8 functions x 4 KiB.</summary>
    public const ulong EcamSize = 0x1000_0000;

    /// <summary>Start of the window where guests place 32-bit memory BARs.</summary>
    public const ulong PciMmioWindowBase = 0xE000_0000;

    /// <summary>Size of the 32-bit memory BAR window.</summary>
    public const ulong PciMmioWindowSize = 0x1000_0000;

    /// <summary>Start of the port range where guests place I/O BARs.</summary>
    public const ushort PciIoWindowBase = 0xC000;

    /// <summary>COM1: the 16550 UART's port base.</summary>
    public const ushort Com1Port = 0x3F8;

    /// <summary>COM1's ISA interrupt line.</summary>
    public const int Com1Irq = 4;

    /// <summary>isa-debug-exit port base (QEMU: <c>-device isa-debug-exit,iobase=0x501,iosize=2</c>).</summary>
    public const ushort IsaDebugExitPort = 0x501;

    /// <summary>isa-debug-exit port range size.</summary>
    public const ushort IsaDebugExitSize = 2;

    /// <summary>PCI slot of the host bridge (00:00.0).</summary>
    public const int HostBridgeSlot = 0;

    /// <summary>PCI slot of edu (00:02.0: the first free slot after QEMU's pc host bridge and PIIX3 at 00:01).</summary>
    public const int EduSlot = 2;

    /// <summary>PCI slot of pci-testdev (00:03.0).</summary>
    public const int PciTestdevSlot = 3;

    /// <summary>Interrupt line (GSI on the in-kernel irqchip) that edu's INTA# is wired to.</summary>
    public const int EduIrq = 11;

    /// <summary>Guest-physical base of the local APIC; MSI writes target 0xFEExxxxx.</summary>
    public const ulong LocalApicBase = 0xFEE0_0000;
}
