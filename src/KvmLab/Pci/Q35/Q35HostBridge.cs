namespace KvmLab.Pci.Q35;

/// <summary>
/// The q35 host bridge function at 00:00.0, QEMU's "mch" (hw/pci-host/q35.c): Intel 82G33/P35 MCH, 8086:29c0, class
/// 0x0600. Its PCIEXBAR register at 0x60 decides where the ECAM window lies: bit 0 enables it, bits 2:1 give its
/// length (256, 128 or 64 buses), the base is bits 35:28 (35:27, 35:26 for the shorter windows). Every write that
/// touches the register moves, places or removes the window, as mch_update_pciexbar does; at reset the register holds
/// 0xB0000000 with the enable bit clear, so the window appears only when the guest (normally firmware) enables it.
/// </summary>
/// <remarks>
/// The other registers QEMU 7.2 gives a value or a behaviour (measured, tests/KvmLab.Tests/Pci/Reference; everything
/// else from 0x40 up is plain read/write storage, as in QEMU):
/// <list type="table">
/// <item><term>0x50</term><description>EXT_TSEG_MBYTES: writing 0xffff asks for the extended TSEG size and reads 16 (MiB)</description></item>
/// <item><term>0x90..0x96</term><description>PAM0..6: storage; the shadow RAM they select is not modelled</description></item>
/// <item><term>0x9C</term><description>F_SMBASE: writing 0xff asks whether SMRAM at SMBASE exists (reads 1), then only the lock bit is writable, and once set nothing is</description></item>
/// <item><term>0x9D</term><description>SMRAM: 0x02 at reset; D_OPEN, D_CLS, D_LCK, G_SMRAME writable until D_LCK, then only D_CLS</description></item>
/// <item><term>0x9E</term><description>ESMRAMC: 0x38 at reset; H_SMRAME, TSEG size, T_EN writable until D_LCK, then nothing</description></item>
/// </list>
/// SMRAM, TSEG and the SMBASE window themselves are not modelled: KvmLab's guests never enter SMM.
/// </remarks>
internal sealed class Q35HostBridge : PciDevice, IEcamOwner
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

    /// <summary>0x50: EXT_TSEG_MBYTES (16 bits).</summary>
    public const int ExtTsegMbytes = 0x50;

    /// <summary>The value written to <see cref="ExtTsegMbytes"/> to ask for the extended TSEG size.</summary>
    public const ushort ExtTsegMbytesQuery = 0xFFFF;

    /// <summary>QEMU's q35 default extended TSEG size in MiB (property "ext-tseg-mbytes").</summary>
    public const ushort ExtTsegMbytesDefault = 16;

    /// <summary>0x90: PAM0, the first of the seven PAM registers.</summary>
    public const int Pam0 = 0x90;

    /// <summary>0x9C: F_SMBASE.</summary>
    public const int FSmbase = 0x9C;

    /// <summary>F_SMBASE value that asks whether SMRAM at SMBASE is offered.</summary>
    public const byte FSmbaseQuery = 0xFF;

    /// <summary>F_SMBASE answer: SMRAM at SMBASE is offered.</summary>
    public const byte FSmbaseInRam = 0x01;

    /// <summary>F_SMBASE bit 1: lock.</summary>
    public const byte FSmbaseLock = 0x02;

    /// <summary>0x9D: SMRAM.</summary>
    public const int Smram = 0x9D;

    /// <summary>SMRAM at reset: C_BASE_SEG = 010b, compatible SMRAM at 0xA0000.</summary>
    public const byte SmramDefault = 0x02;

    /// <summary>SMRAM bit 4: D_LCK, locks SMRAM and ESMRAMC.</summary>
    public const byte SmramLock = 0x10;

    /// <summary>SMRAM bit 6: D_OPEN, cleared by the lock.</summary>
    public const byte SmramOpen = 0x40;

    /// <summary>SMRAM bits the guest may write before the lock: D_OPEN, D_CLS, D_LCK, G_SMRAME.</summary>
    public const byte SmramWritable = 0x78;

    /// <summary>SMRAM bits the guest may write after the lock: D_CLS.</summary>
    public const byte SmramWritableLocked = 0x20;

    /// <summary>0x9E: ESMRAMC.</summary>
    public const int Esmramc = 0x9E;

    /// <summary>ESMRAMC at reset: SM_CACHE, SM_L1, SM_L2.</summary>
    public const byte EsmramcDefault = 0x38;

    /// <summary>ESMRAMC bits the guest may write before the lock: H_SMRAME, TSEG_SZ, T_EN.</summary>
    public const byte EsmramcWritable = 0x87;

    private const ulong BaseMask256 = 0xF_F000_0000;

    /// <summary>Creates the MCH with its registers at their reset values (mch_reset).</summary>
    public Q35HostBridge()
        : base("mch", I440fxHostBridge.VendorIdIntel, DeviceIdMch, revision: 0x00, classCode: 0x0600, interruptPin: 0)
    {
        SetConfig32(PciExBar, (uint)PciExBarDefault);
        SetConfig32(PciExBar + 4, (uint)(PciExBarDefault >> 32));
        SetConfig16(ExtTsegMbytes, ExtTsegMbytesDefault);
        SetConfig8(Smram, SmramDefault);
        SetWriteMask(Smram, 1, SmramWritable);
        SetConfig8(Esmramc, EsmramcDefault);
        SetWriteMask(Esmramc, 1, EsmramcWritable);
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
        // mch_write_config: the default write, then each register block the write touched.
        base.WriteConfig(offset, size, value);
        bool Touches(int at, int length) => offset < at + length && at < offset + size;
        if (Touches(PciExBar, 8))
        {
            UpdatePciExBar();
        }

        if (Touches(Smram, 2))
        {
            UpdateSmram();
        }

        if (Touches(ExtTsegMbytes, 2) && GetConfig16(ExtTsegMbytes) == ExtTsegMbytesQuery)
        {
            SetConfig16(ExtTsegMbytes, ExtTsegMbytesDefault);
        }

        if (Touches(FSmbase, 1))
        {
            UpdateSmbase();
        }
    }

    // mch_update_smram: D_LCK closes D_OPEN and leaves only D_CLS writable.
    private void UpdateSmram()
    {
        if ((Config[Smram] & SmramLock) != 0)
        {
            SetConfig8(Smram, (byte)(Config[Smram] & ~SmramOpen));
            SetWriteMask(Smram, 1, SmramWritableLocked);
            SetWriteMask(Esmramc, 1, 0);
        }
    }

    // mch_update_smbase_smram: the query answers and opens only the lock bit; a value written before the query is
    // discarded; the lock closes the register.
    private void UpdateSmbase()
    {
        if (Config[FSmbase] == FSmbaseQuery)
        {
            SetWriteMask(FSmbase, 1, FSmbaseLock);
            SetConfig8(FSmbase, FSmbaseInRam);
            return;
        }

        if (WriteMask[FSmbase] == 0xFF)
        {
            SetConfig8(FSmbase, 0);
        }

        if ((Config[FSmbase] & FSmbaseLock) != 0)
        {
            SetWriteMask(FSmbase, 1, (byte)(WriteMask[FSmbase] & ~FSmbaseLock));
            SetConfig8(FSmbase, FSmbaseLock);
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

    /// <inheritdoc />
    public override bool DeviceChangesConfigByte(int offset) =>
        offset is ExtTsegMbytes or ExtTsegMbytes + 1 or FSmbase or Smram or Esmramc;
}
