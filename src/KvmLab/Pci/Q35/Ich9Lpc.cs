namespace KvmLab.Pci.Q35;

/// <summary>
/// ICH9's LPC bridge at 00:1f.0, QEMU's "ICH9-LPC" (hw/isa/lpc_ich9.c): 8086:2918, class 0x0601 (ISA bridge),
/// multi-function so that software scans 1f.2 and 1f.3. QEMU's q35 machine always has it, even with -nodefaults. Its
/// configuration space and masks are QEMU 7.2's at reset (measured, tests/KvmLab.Tests/Pci/Reference):
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>0x40</term><description>PMBASE: I/O base of the ACPI PM block, bits 15:7; bit 0 reads 1 at reset</description></item>
/// <item><term>0x44</term><description>ACPI_CNTL: ACPI enable 7, SCI IRQ 2:0</description></item>
/// <item><term>0x60</term><description>PIRQA..D_ROUT: 0x80 = not routed</description></item>
/// <item><term>0x68</term><description>PIRQE..H_ROUT: 0x80 = not routed</description></item>
/// <item><term>0xA0</term><description>GEN_PMCON_1: bit 4, SMI lock, cannot be cleared once set</description></item>
/// <item><term>0xF0</term><description>RCBA: root complex base address</description></item>
/// </list>
/// The registers are storage: the PM block, the PIRQ routing, GPIO and the root complex register block they would
/// place are not modelled.
/// </remarks>
internal sealed class Ich9Lpc : PciDevice
{
    /// <summary>The LPC interface controller's device ID.</summary>
    public const ushort DeviceIdLpc = 0x2918;

    /// <summary>0x40: PMBASE.</summary>
    public const int PmBase = 0x40;

    /// <summary>PMBASE bit 0: the resource type indicator, I/O.</summary>
    public const uint PmBaseIo = 0x1;

    /// <summary>0x44: ACPI_CNTL.</summary>
    public const int AcpiControl = 0x44;

    /// <summary>0x60: PIRQA..PIRQD routing, one byte each.</summary>
    public const int PirqRouteAtoD = 0x60;

    /// <summary>0x68: PIRQE..PIRQH routing, one byte each.</summary>
    public const int PirqRouteEtoH = 0x68;

    /// <summary>A PIRQ routing byte's reset value: bit 7, interrupt routing disabled.</summary>
    public const byte PirqRouteDisabled = 0x80;

    /// <summary>0x82: LPC_EN, the decode enables of the LPC I/O ranges; bit 0 (COMA) is set when a serial port sits
    /// at 0x3F8.</summary>
    public const int LpcEnable = 0x82;

    /// <summary>0xA0: GEN_PMCON_1.</summary>
    public const int GenPmCon1 = 0xA0;

    /// <summary>GEN_PMCON_1 bit 4: SMI lock.</summary>
    public const byte GenPmCon1SmiLock = 0x10;

    /// <summary>0xF0: RCBA.</summary>
    public const int RootComplexBase = 0xF0;

    /// <summary>Creates the function with its reset configuration space.</summary>
    public Ich9Lpc()
        : base("ICH9-LPC", I440fxHostBridge.VendorIdIntel, DeviceIdLpc, revision: 0x02, classCode: 0x0601, interruptPin: 0, multiFunction: true)
    {
        // ich9_lpc_reset
        SetConfig32(PmBase, PmBaseIo);
        SetConfig32(PirqRouteAtoD, 0x8080_8080);
        SetConfig32(PirqRouteEtoH, 0x8080_8080);

        // Every KvmLab board has COM1; QEMU -M q35 with a serial port at 0x3F8 reads LPC_EN = 0x0001 (measured, with
        // "-serial null": without a serial port it reads 0). The Reference dumps are taken with a serial port.
        SetConfig8(LpcEnable, 0x01);

        // ich9_lpc_realize sets PMBASE's mask to bits 15:7, then writes ACPI_CNTL's mask (enable 7, SCI IRQ 2:0) to
        // PMBASE's first byte instead of ACPI_CNTL's, so PMBASE bits 0..2 are writable and ACPI_CNTL keeps the
        // default all-writable mask. Measured: the mask of the PMBASE dword is 0x0000ff87.
        SetWriteMask(PmBase, 4, 0x0000_FF87);
    }

    /// <inheritdoc />
    public override void WriteConfig(int offset, int size, uint value)
    {
        base.WriteConfig(offset, size, value);

        // ich9_lpc_pmcon_update: once SMI lock is set, it stays.
        if (offset < GenPmCon1 + 8 && GenPmCon1 < offset + size && (Config[GenPmCon1] & GenPmCon1SmiLock) != 0)
        {
            SetWriteMask(GenPmCon1, 1, (byte)(WriteMask[GenPmCon1] & ~GenPmCon1SmiLock));
        }
    }

    /// <inheritdoc />
    public override bool DeviceChangesConfigByte(int offset) => offset == GenPmCon1;
}
