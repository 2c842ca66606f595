using System.Buffers.Binary;
using System.Text;
using KvmLab.Memory;
using KvmLab.Pci;

namespace KvmLab.Devices;

/// <summary>
/// QEMU's pci-testdev (hw/misc/pci-testdev.c), 1b36:0005: BAR0 "pci-testdev-mmio" (4 KiB) and BAR1
/// "pci-testdev-portio" (256 ports) each start with a test header. Writing a test number (0..2) to offset 0 selects
/// that BAR's test; the header then tells the guest at which offset to write, and every matching write counts. Tests
/// 1 and 2 are the ones QEMU serves with an ioeventfd (wildcard and data-match): <see cref="ActiveEventFd"/> says
/// where the machine may register one, so the same guest measures exits with and without it.
/// </summary>
public sealed class PciTestdev : PciDevice
{
    // Test header at the start of each BAR (all fields little-endian).
    /// <summary>0x00 W: select test n of this BAR (0 no-eventfd, 1 wildcard-eventfd, 2 datamatch-eventfd).</summary>
    public const ulong RegTest = 0x00;
    /// <summary>0x01 R: access width the test expects (1).</summary>
    public const ulong RegWidth = 0x01;
    /// <summary>0x04 R: offset in this BAR where the test's writes go (dword).</summary>
    public const ulong RegOffset = 0x04;
    /// <summary>0x08 R: value a data-match test expects.</summary>
    public const ulong RegData = 0x08;
    /// <summary>0x0C R: number of writes the device saw (dword).</summary>
    public const ulong RegCount = 0x0C;
    /// <summary>0x10 R: the test name, NUL-terminated.</summary>
    public const ulong RegName = 0x10;

    /// <summary>The register map of both test BARs' headers.</summary>
    public static readonly RegisterMap Registers = new(
        new Register(RegTest, 1, RegisterAccess.RW, "test", "write: start test n; read: current test index"),
        new Register(RegWidth, 1, RegisterAccess.R, "width", "access width the test expects"),
        new Register(RegOffset, 4, RegisterAccess.R, "offset", "where to write"),
        new Register(RegData, 1, RegisterAccess.R, "data", "value a datamatch test expects"),
        new Register(RegCount, 4, RegisterAccess.R, "count", "writes seen by the device"),
        new Register(RegName, 32, RegisterAccess.R, "name", "test name, NUL-terminated"));

    /// <summary>Value the data-match tests expect.</summary>
    public const byte DataMatch = 0xFA;
    /// <summary>Value the other tests advertise.</summary>
    public const byte NoMatch = 0xCE;
    /// <summary>Size of the port BAR's half where the header lives (tests write above it).</summary>
    public const int IoHalf = 128;
    /// <summary>Size of the MMIO BAR's half where the header lives.</summary>
    public const int MemHalf = 2048;

    // Indexed like CurrentTest: the three tests of BAR0, then the three of BAR1.
    private static readonly string[] TestNames =
        ["mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd", "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd"];
    private readonly byte[][] _headers = new byte[6][];
    private int _current = -1;

    /// <summary>Creates the device with its two BARs.</summary>
    public PciTestdev()
        : base("pci-testdev", 0x1b36, 0x0005, revision: 0x00, classCode: 0x00ff, interruptPin: 0)
    {
        Mmio = MemoryRegion.CreateIo("pci-testdev-mmio", MemHalf * 2, new Ops(this, isPortIo: false), "pci-testdev", Registers);
        PortIo = MemoryRegion.CreateIo("pci-testdev-portio", IoHalf * 2, new Ops(this, isPortIo: true), "pci-testdev", Registers);
        RegisterBar(0, PciBarKind.Memory32, Mmio);
        RegisterBar(1, PciBarKind.Io, PortIo);
        for (int i = 0; i < 6; i++)
        {
            string name = TestNames[i];
            byte[] header = new byte[(int)RegName + name.Length + 1];
            header[RegTest] = (byte)i;
            header[RegWidth] = 1;
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan((int)RegOffset), (uint)((i < 3 ? MemHalf : IoHalf) + i));
            header[RegData] = i % 3 == 1 ? NoMatch : DataMatch;
            Encoding.ASCII.GetBytes(name).CopyTo(header, (int)RegName);
            _headers[i] = header;
        }
    }

    /// <summary>BAR0.</summary>
    public MemoryRegion Mmio { get; }

    /// <summary>BAR1.</summary>
    public MemoryRegion PortIo { get; }

    /// <summary>Index 0..5 of the running test (0..2 MMIO, 3..5 port I/O), or -1.</summary>
    public int CurrentTest => _current;

    /// <summary>Name of the running test, or null.</summary>
    public string? CurrentTestName => _current < 0 ? null : TestNames[_current];

    /// <summary>Writes counted by the running test.</summary>
    public uint Count => _current < 0 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(_headers[_current].AsSpan((int)RegCount));

    /// <summary>
    /// Where QEMU would now have an ioeventfd for the running test (tests 1 and 2 of either BAR), as an absolute
    /// address in its space, or null (no such test, or the BAR is not mapped). With it registered, the guest's writes
    /// never exit and <see cref="Count"/> stays 0, exactly as under QEMU.
    /// </summary>
    public IoEventFdRequest? ActiveEventFd
    {
        get
        {
            if (_current < 0 || _current % 3 == 0)
            {
                return null;
            }

            bool isPortIo = _current >= 3;
            if (Bars[isPortIo ? 1 : 0]?.MappedAddress is not { } bar)
            {
                return null;
            }

            byte[] h = _headers[_current];
            bool match = _current % 3 == 2;
            return new IoEventFdRequest(isPortIo ? "io" : "memory", bar + TestOffset(h), 1, match, h[RegData]);
        }
    }

    /// <summary>Raised when a test starts or stops, so the machine can (de)register <see cref="ActiveEventFd"/>.</summary>
    public event Action<PciTestdev>? TestChanged;

    private ulong ReadByte(ulong offset)
    {
        if (_current < 0)
        {
            return 0;
        }

        byte[] h = _headers[_current];
        // QEMU's bound check counts the access size in, so the last header byte reads as 0 too.
        return offset + 1 >= (ulong)h.Length ? 0UL : h[offset];
    }

    private void WriteByte(ulong offset, int size, ulong value, bool isPortIo)
    {
        if (offset == RegTest)
        {
            _current = -1;
            if (value < 3)
            {
                _current = (isPortIo ? 3 : 0) + (int)value;
                BinaryPrimitives.WriteUInt32LittleEndian(_headers[_current].AsSpan((int)RegCount), 0);
            }

            TestChanged?.Invoke(this);
            return;
        }

        if (_current < 0)
        {
            return;
        }

        byte[] h = _headers[_current];
        bool match = _current % 3 != 1;
        if (offset != TestOffset(h) || (match && (size != 1 || value != h[RegData])))
        {
            return;
        }

        Span<byte> count = h.AsSpan((int)RegCount, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(count, BinaryPrimitives.ReadUInt32LittleEndian(count) + 1);
    }

    private static uint TestOffset(byte[] header) => BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan((int)RegOffset));

    private sealed class Ops(PciTestdev device, bool isPortIo) : IMemoryRegionOps
    {
        public AccessSizes Impl => new(1, 1);

        public ulong Read(ulong offset, int size) => device.ReadByte(offset);

        public void Write(ulong offset, int size, ulong value) => device.WriteByte(offset, size, value, isPortIo);
    }
}
