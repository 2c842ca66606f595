using System.Text;
using KvmLab.Memory;

using KvmLab.Interrupts;

namespace KvmLab.Devices;

/// <summary>
/// A 16550A UART as QEMU's "serial" models it (hw/char/serial.c): transmission is instantaneous (THRE and TEMT
/// always set), received bytes queue until the guest reads RBR, and interrupts go to <see cref="PcLayout.Com1Irq"/>
/// when IER enables them. Modem-control loopback and line-status errors are not modelled.
/// </summary>
internal sealed class Serial16550
{
    // Register map (offsets from the port base). DLAB = LCR bit 7 switches offsets 0 and 1 to the divisor latch.
    /// <summary>0 R: receive buffer (RBR); W: transmit holding (THR); DLAB: divisor latch low.</summary>
    public const ulong RegData = 0;
    /// <summary>1 RW: interrupt enable (IER); DLAB: divisor latch high.</summary>
    public const ulong RegInterruptEnable = 1;
    /// <summary>2 R: interrupt identification (IIR); W: FIFO control (FCR).</summary>
    public const ulong RegInterruptId = 2;
    /// <summary>3 RW: line control (LCR); bit 7 = DLAB.</summary>
    public const ulong RegLineControl = 3;
    /// <summary>4 RW: modem control (MCR).</summary>
    public const ulong RegModemControl = 4;
    /// <summary>5 R: line status (LSR): bit 0 data ready, bit 5 THR empty, bit 6 transmitter empty.</summary>
    public const ulong RegLineStatus = 5;
    /// <summary>6 R: modem status (MSR).</summary>
    public const ulong RegModemStatus = 6;
    /// <summary>7 RW: scratch (SCR).</summary>
    public const ulong RegScratch = 7;

    /// <summary>The register map of "serial".</summary>
    public static readonly RegisterMap Registers = new(
        new Register(RegData, 1, RegisterAccess.RW, "RBR/THR", "receive / transmit byte (DLL when DLAB=1)"),
        new Register(RegInterruptEnable, 1, RegisterAccess.RW, "IER", "interrupt enable: 0 rx, 1 thre, 2 line status, 3 modem (DLM when DLAB=1)"),
        new Register(RegInterruptId, 1, RegisterAccess.RW, "IIR/FCR", "pending interrupt (read) / FIFO control (write)"),
        new Register(RegLineControl, 1, RegisterAccess.RW, "LCR", "word length, stop bits, parity; bit 7 DLAB"),
        new Register(RegModemControl, 1, RegisterAccess.RW, "MCR", "DTR, RTS, OUT1, OUT2, loop"),
        new Register(RegLineStatus, 1, RegisterAccess.R, "LSR", "bit0 data ready, bit5 THR empty, bit6 idle"),
        new Register(RegModemStatus, 1, RegisterAccess.R, "MSR", "CTS, DSR, RI, DCD"),
        new Register(RegScratch, 1, RegisterAccess.RW, "SCR", "scratch byte"));

    private const byte IerReceived = 0x01, IerTransmitEmpty = 0x02;
    private const byte IirNoInterrupt = 0x01, IirTransmitEmpty = 0x02, IirReceived = 0x04, IirFifoEnabled = 0xC0;
    private const byte LsrDataReady = 0x01, LsrTransmitEmpty = 0x20, LsrIdle = 0x40;
    private const byte LcrDlab = 0x80;
    private const byte FcrEnable = 0x01, FcrClearReceive = 0x02;

    private readonly IInterruptSink? _interrupts;
    private readonly int _irq;
    private readonly Queue<byte> _input = new();
    private readonly StringBuilder _transcript = new();
    private byte _ier, _lcr, _mcr = 0x08, _scr, _fcr, _rbr;
    private ushort _divisor = 0x0C;
    private bool _transmitEmptyPending;
    private bool _irqAsserted;

    /// <summary>Creates a UART whose interrupts (if any) go to <paramref name="irq"/> through <paramref name="interrupts"/>.</summary>
    public Serial16550(IInterruptSink? interrupts = null, int irq = PcLayout.Com1Irq, TextWriter? output = null)
    {
        _interrupts = interrupts;
        _irq = irq;
        Output = output;
        Region = MemoryRegion.CreateIo("serial", 8, new Ops(this), "serial", Registers);
    }

    /// <summary>The port region; place it at <see cref="PcLayout.Com1Port"/> in the "io" space.</summary>
    public MemoryRegion Region { get; }

    /// <summary>Where transmitted bytes are echoed as Latin-1 characters, or null.</summary>
    public TextWriter? Output { get; set; }

    /// <summary>Everything the guest transmitted, as Latin-1 text.</summary>
    public string Transcript => _transcript.ToString();

    /// <summary>The divisor latch (115200 / divisor = baud).</summary>
    public ushort Divisor => _divisor;

    /// <summary>Raised for each byte the guest transmits.</summary>
    public event Action<byte>? Transmitted;

    /// <summary>Queues bytes for the guest to receive.</summary>
    public void PushInput(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            _input.Enqueue(b);
        }

        UpdateIrq();
    }

    /// <summary>Queues a string (Latin-1) for the guest to receive.</summary>
    public void PushInput(string text) => PushInput(Encoding.Latin1.GetBytes(text));

    private byte Read(ulong offset)
    {
        switch (offset)
        {
            case RegData when (_lcr & LcrDlab) != 0:
                return (byte)_divisor;
            case RegData:
                if (_input.TryDequeue(out byte b))
                {
                    _rbr = b;
                }

                UpdateIrq();
                return _rbr;
            case RegInterruptEnable when (_lcr & LcrDlab) != 0:
                return (byte)(_divisor >> 8);
            case RegInterruptEnable:
                return _ier;
            case RegInterruptId:
                byte iir = Identify();
                if (iir == IirTransmitEmpty)
                {
                    // Reading IIR while THRE is the reason acknowledges it, as on the real part.
                    _transmitEmptyPending = false;
                    UpdateIrq();
                }

                return (byte)(iir | ((_fcr & FcrEnable) != 0 ? IirFifoEnabled : 0));
            case RegLineControl:
                return _lcr;
            case RegModemControl:
                return _mcr;
            case RegLineStatus:
                return (byte)(LsrTransmitEmpty | LsrIdle | (_input.Count > 0 ? LsrDataReady : 0));
            case RegModemStatus:
                return 0xB0;
            default:
                return _scr;
        }
    }

    private void Write(ulong offset, byte value)
    {
        switch (offset)
        {
            case RegData when (_lcr & LcrDlab) != 0:
                _divisor = (ushort)((_divisor & 0xFF00) | value);
                break;
            case RegData:
                Transmit(value);
                break;
            case RegInterruptEnable when (_lcr & LcrDlab) != 0:
                _divisor = (ushort)((_divisor & 0x00FF) | (value << 8));
                break;
            case RegInterruptEnable:
                bool enablingThre = (value & IerTransmitEmpty) != 0 && (_ier & IerTransmitEmpty) == 0;
                _ier = (byte)(value & 0x0F);
                if (enablingThre)
                {
                    _transmitEmptyPending = true;
                }

                UpdateIrq();
                break;
            case RegInterruptId:
                _fcr = (byte)(value & 0xC9);
                if ((value & FcrClearReceive) != 0)
                {
                    _input.Clear();
                    UpdateIrq();
                }

                break;
            case RegLineControl:
                _lcr = value;
                break;
            case RegModemControl:
                _mcr = (byte)(value & 0x1F);
                break;
            case RegScratch:
                _scr = value;
                break;
        }
    }

    private void Transmit(byte value)
    {
        char c = (char)value;
        _transcript.Append(c);
        Output?.Write(c);
        Transmitted?.Invoke(value);
        _transmitEmptyPending = true;
        UpdateIrq();
    }

    // Highest-priority pending interrupt (line-status errors never happen here): received data, then THR empty.
    private byte Identify()
    {
        if ((_ier & IerReceived) != 0 && _input.Count > 0)
        {
            return IirReceived;
        }

        if ((_ier & IerTransmitEmpty) != 0 && _transmitEmptyPending)
        {
            return IirTransmitEmpty;
        }

        return IirNoInterrupt;
    }

    private void UpdateIrq()
    {
        bool level = Identify() != IirNoInterrupt;
        if (level != _irqAsserted)
        {
            _irqAsserted = level;
            _interrupts?.SetIrq(_irq, level);
        }
    }

    private sealed class Ops(Serial16550 uart) : IMemoryRegionOps
    {
        public AccessSizes Impl => new(1, 1);

        public ulong Read(ulong offset, int size) => uart.Read(offset);

        public void Write(ulong offset, int size, ulong value) => uart.Write(offset, (byte)value);
    }
}
