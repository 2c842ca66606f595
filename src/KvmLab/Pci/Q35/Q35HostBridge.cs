namespace KvmLab.Pci.Q35;

/// <summary>
/// The q35 host bridge function at 00:00.0, QEMU's "mch" (hw/pci-host/q35.c): Intel 82G33/P35 MCH, 8086:29c0, class
/// 0x0600. Its PCIEXBAR register at 0x60 decides where the ECAM window lies: bit 0 enables it, bits 2:1 give its
/// length (256, 128 or 64 buses), the base is bits 35:28 (35:27, 35:26 for the shorter windows). Every write that
/// touches the register moves, places or removes the window, as mch_update_pciexbar does; at reset the register holds
/// 0xB0000000 with the enable bit clear, so the window appears only when the guest (normally firmware) enables it.
/// </summary>
public sealed class Q35HostBridge : PciDevice, IEcamOwner
{
    /// <summary>The MCH's device ID.</summary>
    public const ushort DeviceIdMch = 0x29C0;

    /// <summary>0x60: PCIEXBAR, the ECAM window's base, length and enable (64 bits).</summary>
    public const int PciExBar = 0x60;

    /// <summary>PCIEXBAR's value at reset: base 0xB0000000, length 256 MiB, disabled.</summary>
    public const ulong PciExBarDefault = 0xB000_0000;

    /// <summary>PCIEXBAR bit 0: the window decodes.</summary>
    public const ulong PciExBarEnable = 0x1;

    /// <summary>PCIEXBAR bits 2:1: 00 = 256 MiB, 01 = 128 MiB, 10 = 64 MiB, 11 reserved (no window).</summary>
    public const ulong PciExBarLengthMask = 0x6;

    private const ulong BaseMask256 = 0xF_F000_0000;

    /// <summary>Creates the MCH with PCIEXBAR at its reset value.</summary>
    public Q35HostBridge()
        : base("mch", I440fxHostBridge.VendorIdIntel, DeviceIdMch, revision: 0x00, classCode: 0x0600, interruptPin: 0)
    {
        SetConfig32(PciExBar, (uint)PciExBarDefault);
        SetConfig32(PciExBar + 4, (uint)(PciExBarDefault >> 32));
    }

    /// <inheritdoc />
    public PciHost? Host
    {
        get => _host;
        set
        {
            _host = value;
            UpdatePciExBar();
        }
    }

    private PciHost? _host;

    /// <summary>Where the ECAM window is now (base, length), or null while PCIEXBAR leaves it disabled.</summary>
    public (ulong Base, ulong Length)? EcamWindow { get; private set; }

    /// <summary>The PCIEXBAR register.</summary>
    public ulong PciExBarValue => GetConfig32(PciExBar) | ((ulong)GetConfig32(PciExBar + 4) << 32);

    /// <inheritdoc />
    public override void WriteConfig(int offset, int size, uint value)
    {
        base.WriteConfig(offset, size, value);
        if (offset < PciExBar + 8 && PciExBar < offset + size)
        {
            UpdatePciExBar();
        }
    }

    // QEMU's mch_update_pciexbar: decode length and base, then map, move or unmap the window.
    private void UpdatePciExBar()
    {
        ulong bar = PciExBarValue;
        (ulong Base, ulong Length)? window = null;
        ulong? length = (bar & PciExBarLengthMask) switch
        {
            0x0 => 256UL << 20,
            0x2 => 128UL << 20,
            0x4 => 64UL << 20,
            _ => null,
        };
        if ((bar & PciExBarEnable) != 0 && length is { } len)
        {
            ulong mask = BaseMask256 | (len < 256UL << 20 ? 0x0800_0000UL : 0) | (len < 128UL << 20 ? 0x0400_0000UL : 0);
            window = (bar & mask, len);
        }

        if (window == EcamWindow)
        {
            return;
        }

        EcamWindow = window;
        _host?.SetEcam(window?.Base, window?.Length ?? PcLayout.EcamSize);
    }
}
