using KvmLab.Memory;
using KvmLab.Pci;

namespace KvmLab.Devices;

/// <summary>
/// QEMU's educational PCI device (hw/misc/edu.c, docs/specs/edu.rst as of 7.2): 1234:11e8 revision 0x10, class
/// 0x00ff, INTA#, one MSI vector, BAR0 = 1 MiB "edu-mmio". The factorial and DMA complete later on the
/// <see cref="DeviceClock"/>; DMA is bounds-checked so a hostile guest can touch neither host memory nor anything
/// outside guest RAM and the 4 KiB buffer.
/// </summary>
public sealed class Edu : PciDevice
{
    // Register map (offsets in BAR0). Below 0x80 only 4-byte accesses; from 0x80 4 or 8 bytes.
    /// <summary>0x00 R: identification 0x010000ED (version 1.0 in the top bytes).</summary>
    public const ulong RegIdentification = 0x00;
    /// <summary>0x04 RW: liveness check, reads the bitwise NOT of the last value written.</summary>
    public const ulong RegLiveness = 0x04;
    /// <summary>0x08 RW: factorial: write n, read n! once the status busy bit is clear.</summary>
    public const ulong RegFactorial = 0x08;
    /// <summary>0x20 RW: status: bit 0 busy computing (read-only), bit 7 raise interrupt 0x01 when done.</summary>
    public const ulong RegStatus = 0x20;
    /// <summary>0x24 R: interrupt status bits.</summary>
    public const ulong RegInterruptStatus = 0x24;
    /// <summary>0x60 W: raise interrupt: OR the value into interrupt status and assert.</summary>
    public const ulong RegInterruptRaise = 0x60;
    /// <summary>0x64 W: acknowledge interrupt: clear the bits; INTx deasserts at zero.</summary>
    public const ulong RegInterruptAck = 0x64;
    /// <summary>0x80 RW: DMA source address.</summary>
    public const ulong RegDmaSource = 0x80;
    /// <summary>0x88 RW: DMA destination address.</summary>
    public const ulong RegDmaDestination = 0x88;
    /// <summary>0x90 RW: DMA transfer count in bytes.</summary>
    public const ulong RegDmaCount = 0x90;
    /// <summary>0x98 RW: DMA command: bit 0 start, bit 1 direction (1 = buffer to RAM), bit 2 raise 0x100 when done.</summary>
    public const ulong RegDmaCommand = 0x98;

    /// <summary>The register map of "edu-mmio".</summary>
    public static readonly RegisterMap Registers = new(
        new Register(RegIdentification, 4, RegisterAccess.R, "id", "identification 0x010000ed"),
        new Register(RegLiveness, 4, RegisterAccess.RW, "liveness", "reads back ~value written"),
        new Register(RegFactorial, 4, RegisterAccess.RW, "factorial", "write n, read n! when not busy"),
        new Register(RegStatus, 4, RegisterAccess.RW, "status", "bit0 busy (RO), bit7 irq on factorial done"),
        new Register(RegInterruptStatus, 4, RegisterAccess.R, "irq_status", "pending interrupt bits"),
        new Register(RegInterruptRaise, 4, RegisterAccess.W, "irq_raise", "OR into irq_status and assert"),
        new Register(RegInterruptAck, 4, RegisterAccess.W, "irq_ack", "clear irq_status bits"),
        new Register(RegDmaSource, 8, RegisterAccess.RW, "dma_src", "DMA source address"),
        new Register(RegDmaDestination, 8, RegisterAccess.RW, "dma_dst", "DMA destination address"),
        new Register(RegDmaCount, 8, RegisterAccess.RW, "dma_cnt", "DMA byte count"),
        new Register(RegDmaCommand, 8, RegisterAccess.RW, "dma_cmd", "bit0 start, bit1 dir (1: to RAM), bit2 irq"));

    /// <summary>edu's PCI vendor ID (QEMU's for its own test devices).</summary>
    public const ushort VendorIdEdu = 0x1234;
    /// <summary>edu's PCI device ID.</summary>
    public const ushort DeviceIdEdu = 0x11E8;
    /// <summary>Value of the identification register.</summary>
    public const uint Identification = 0x010000ED;
    /// <summary>Status bit 0: a factorial is being computed.</summary>
    public const uint StatusComputing = 0x01;
    /// <summary>Status bit 7: raise <see cref="FactorialIrq"/> when the factorial is done.</summary>
    public const uint StatusIrqOnFactorial = 0x80;
    /// <summary>Interrupt status bit raised by a finished factorial.</summary>
    public const uint FactorialIrq = 0x001;
    /// <summary>Interrupt status bit raised by a finished DMA.</summary>
    public const uint DmaIrq = 0x100;
    /// <summary>DMA command bit 0: start (reads 1 until the transfer ran).</summary>
    public const ulong DmaRun = 0x1;
    /// <summary>DMA command bit 1: 1 = device buffer to RAM, 0 = RAM to device buffer.</summary>
    public const ulong DmaToRam = 0x2;
    /// <summary>DMA command bit 2: raise <see cref="DmaIrq"/> when done.</summary>
    public const ulong DmaRaiseIrq = 0x4;
    /// <summary>Device address of the DMA buffer.</summary>
    public const ulong DmaBufferAddress = 0x40000;
    /// <summary>Size of the DMA buffer.</summary>
    public const int DmaBufferSize = 4096;
    /// <summary>QEMU's default <c>dma_mask</c>: RAM addresses are clamped to 28 bits.</summary>
    public const ulong DmaAddressMask = (1UL << 28) - 1;
    /// <summary>Size of BAR0.</summary>
    public const ulong MmioSize = 1UL << 20;

    private readonly DeviceClock _clock;

    // Built once: a method group passed to Schedule would allocate a delegate on every guest write that starts work.
    private readonly Action _completeFactorial;
    private readonly Action _runDma;
    private readonly byte[] _buffer = new byte[DmaBufferSize];
    private uint _liveness;
    private uint _factorial;
    private uint _status;
    private uint _irqStatus;
    private ulong _dmaSource;
    private ulong _dmaDestination;
    private ulong _dmaCount;
    private ulong _dmaCommand;

    /// <summary>Creates edu. <paramref name="factorialDelay"/> defaults to 5 us; <paramref name="dmaDelay"/> to 10 us (QEMU: 100 ms virtual).</summary>
    public Edu(DeviceClock clock, TimeSpan? factorialDelay = null, TimeSpan? dmaDelay = null)
        : base("edu", VendorIdEdu, DeviceIdEdu, revision: 0x10, classCode: 0x00ff, interruptPin: 1)
    {
        _clock = clock ?? throw new ArgumentNullException(nameof(clock));
        _completeFactorial = CompleteFactorial;
        _runDma = RunDma;
        FactorialDelay = factorialDelay ?? TimeSpan.FromMicroseconds(5);
        DmaDelay = dmaDelay ?? TimeSpan.FromMicroseconds(10);
        Mmio = MemoryRegion.CreateIo("edu-mmio", MmioSize, new MmioOps(this), "edu", Registers);
        RegisterBar(0, PciBarKind.Memory32, Mmio);
        InitMsi(vectors: 1, addressIs64Bit: true);
    }

    /// <summary>BAR0's region.</summary>
    public MemoryRegion Mmio { get; }

    /// <summary>How long a factorial takes.</summary>
    public TimeSpan FactorialDelay { get; set; }

    /// <summary>How long after the start command a DMA transfer runs.</summary>
    public TimeSpan DmaDelay { get; set; }

    /// <summary>The 4 KiB DMA buffer.</summary>
    public ReadOnlySpan<byte> DmaBuffer => _buffer;

    /// <summary>The status register.</summary>
    public uint Status => _status;

    /// <summary>The interrupt status register.</summary>
    public uint InterruptStatus => _irqStatus;

    /// <summary>Why the last DMA was dropped or flagged, or null when it completed cleanly.</summary>
    public string? LastDmaFault { get; private set; }

    /// <summary>Number of DMA transfers dropped by bounds checks or refused by guest memory.</summary>
    public int DmaFaults { get; private set; }

    /// <summary>Raised when a DMA is dropped or flagged, with the reason.</summary>
    public event Action<string>? DmaFaulted;

    private ulong ReadRegister(ulong offset, int size)
    {
        // The memory core already enforces 4..8 bytes; the device keeps its own size rule for accesses below 0x80.
        if (offset < 0x80 && size != 4)
        {
            return ulong.MaxValue;
        }

        return offset switch
        {
            RegIdentification => Identification,
            RegLiveness => _liveness,
            RegFactorial => _factorial,
            RegStatus => _status,
            RegInterruptStatus => _irqStatus,
            RegDmaSource => _dmaSource,
            RegDmaDestination => _dmaDestination,
            RegDmaCount => _dmaCount,
            RegDmaCommand => _dmaCommand,
            _ => ulong.MaxValue,
        };
    }

    private void WriteRegister(ulong offset, int size, ulong value)
    {
        if (offset < 0x80 && size != 4)
        {
            return;
        }

        switch (offset)
        {
            case RegLiveness:
                _liveness = ~(uint)value;
                break;
            case RegFactorial:
                if ((_status & StatusComputing) == 0)
                {
                    _factorial = (uint)value;
                    _status |= StatusComputing;
                    _clock.Schedule(FactorialDelay, _completeFactorial);
                }

                break;
            case RegStatus:
                _status = (value & StatusIrqOnFactorial) != 0 ? _status | StatusIrqOnFactorial : _status & ~StatusIrqOnFactorial;
                break;
            case RegInterruptRaise:
                RaiseIrq((uint)value);
                break;
            case RegInterruptAck:
                LowerIrq((uint)value);
                break;
            case RegDmaSource:
                WriteDma(ref _dmaSource, value);
                break;
            case RegDmaDestination:
                WriteDma(ref _dmaDestination, value);
                break;
            case RegDmaCount:
                WriteDma(ref _dmaCount, value);
                break;
            case RegDmaCommand:
                if ((value & DmaRun) != 0 && (_dmaCommand & DmaRun) == 0)
                {
                    _dmaCommand = value;
                    _clock.Schedule(DmaDelay, _runDma);
                }

                break;
        }
    }

    // QEMU ignores writes to the DMA registers while a transfer is pending.
    private void WriteDma(ref ulong register, ulong value)
    {
        if ((_dmaCommand & DmaRun) == 0)
        {
            register = value;
        }
    }

    private void CompleteFactorial()
    {
        // From 34! on the product has at least 32 factors of two, so it is 0 modulo 2^32: the same value QEMU's loop
        // reaches, without up to four billion multiplications on the run-loop thread (found by the device fuzzer:
        // a guest writing 0xFFFFFFFF stalled the host for seconds, past any deadline).
        uint result = _factorial >= 34 ? 0u : 1u;
        for (uint n = _factorial; n > 0 && result != 0; n--)
        {
            result *= n;
        }

        _factorial = result;
        _status &= ~StatusComputing;
        if ((_status & StatusIrqOnFactorial) != 0)
        {
            RaiseIrq(FactorialIrq);
        }
    }

    private void RunDma()
    {
        if ((_dmaCommand & DmaRun) == 0)
        {
            return;
        }

        bool toRam = (_dmaCommand & DmaToRam) != 0;
        ulong bufferSide = toRam ? _dmaSource : _dmaDestination;
        ulong ramSide = (toRam ? _dmaDestination : _dmaSource) & DmaAddressMask;
        LastDmaFault = null;
        if (!BufferRangeValid(bufferSide, _dmaCount))
        {
            Fault($"DMA buffer range 0x{bufferSide:x}..+0x{_dmaCount:x} is outside 0x{DmaBufferAddress:x}..+0x{DmaBufferSize:x} " +
                  "(QEMU 7.2 also rejects count 0 and a range ending exactly at the buffer end, and aborts)");
        }
        else
        {
            Span<byte> window = _buffer.AsSpan((int)(bufferSide - DmaBufferAddress), (int)_dmaCount);
            bool done = toRam ? DmaWrite(ramSide, window) : DmaRead(ramSide, window);
            if (!done)
            {
                Fault($"DMA {(toRam ? "to" : "from")} RAM 0x{ramSide:x}..+0x{_dmaCount:x} went nowhere " +
                      (BusMaster ? "(not guest RAM)" : "(bus mastering disabled)"));
            }
        }

        _dmaCommand &= ~DmaRun;
        if ((_dmaCommand & DmaRaiseIrq) != 0)
        {
            RaiseIrq(DmaIrq);
        }
    }

    // QEMU 7.2's edu_check_range: the end must lie strictly inside the buffer, so count 0 and a transfer ending
    // exactly at the buffer end are rejected (fixed in later QEMU); KvmLab drops them instead of aborting.
    private static bool BufferRangeValid(ulong address, ulong count)
    {
        const ulong end = DmaBufferAddress + DmaBufferSize;
        if (address < DmaBufferAddress || address >= end || count == 0 || count >= end - address)
        {
            return false;
        }

        return true;
    }

    private void Fault(string reason)
    {
        LastDmaFault = reason;
        DmaFaults++;
        DmaFaulted?.Invoke(reason);
    }

    private void RaiseIrq(uint bits)
    {
        _irqStatus |= bits;
        if (_irqStatus == 0)
        {
            return;
        }

        if (MsiEnabled)
        {
            NotifyMsi(0);
        }
        else
        {
            SetIrq(true);
        }
    }

    private void LowerIrq(uint bits)
    {
        _irqStatus &= ~bits;
        if (_irqStatus == 0 && !MsiEnabled)
        {
            SetIrq(false);
        }
    }

    private sealed class MmioOps(Edu edu) : IMemoryRegionOps
    {
        public AccessSizes Valid => new(4, 8);

        public AccessSizes Impl => new(4, 8);

        public ulong Read(ulong offset, int size) => edu.ReadRegister(offset, size);

        public void Write(ulong offset, int size, ulong value) => edu.WriteRegister(offset, size, value);
    }
}
