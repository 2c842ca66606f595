using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Charts;

/// <summary>
/// Synthetic traces shaped like a real session on the <see cref="PcLayout"/> machine, for demos, tests and
/// benchmarks: a conf1 bus scan of bus 0 with BAR sizing, ECAM reads of edu's header, edu MMIO at 0xe0000000
/// (identification, liveness, factorial with status polling), "hello" on the serial port, and a final HLT.
/// Timings are drawn around the ~7.5 us per exit measured on this project's KVM host.
/// </summary>
internal static class SampleTraces
{
    // The devices' own register maps name the registers, as a real trace would: edu's first seven (id .. irq_ack),
    // the UART's eight.
    private static readonly string[] EduRegisters = [.. Devices.Edu.Registers.Registers.Take(7).Select(r => r.Name)];
    private static readonly ulong[] EduOffsets = [.. Devices.Edu.Registers.Registers.Take(7).Select(r => r.Offset)];
    private static readonly string[] SerialRegisters = [.. Devices.Serial16550.Registers.Registers.Select(r => r.Name)];

    /// <summary>A session of exactly <paramref name="records"/> records (at least 2), deterministic for a seed.</summary>
    public static ExitTrace BusScanAndEdu(int records = 400, int seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(records, 2);
        var b = new Builder(records, seed);
        b.ScanBus();
        b.EcamHeader(PcLayout.EduSlot);
        while (b.Remaining > 1)
        {
            b.EduSession();
            b.Serial("hello\n");
        }
        b.Halt();
        return b.Trace;
    }

    private sealed class Builder
    {
        private readonly Random _random;
        private readonly int _limit;
        private readonly ushort _confAddress, _confData, _edu, _serial, _ecam;
        private long _now;
        private uint _latch;

        public Builder(int records, int seed)
        {
            _limit = records;
            _random = new Random(seed);
            Trace = new ExitTrace("sample: bus scan, edu, serial");
            Trace.Reserve(records);
            _confAddress = Trace.AddSource(new TraceRegion("pci-host", "pci-conf-idx", "io", ["CONFIG_ADDRESS"]));
            _confData = Trace.AddSource(new TraceRegion("pci-host", "pci-conf-data", "io", ["CONFIG_DATA"]));
            _ecam = Trace.AddSource(new TraceRegion("pci-host", "pcie-mmcfg-mmio", "memory", []));
            _edu = Trace.AddSource(new TraceRegion("edu", "edu-mmio", "memory", EduRegisters));
            _serial = Trace.AddSource(new TraceRegion("serial", "serial", "io", SerialRegisters));
        }

        public ExitTrace Trace { get; }

        public int Remaining => _limit - Trace.Count;

        public void ScanBus()
        {
            for (var dev = 0; dev < 32; dev++)
            {
                var present = dev is PcLayout.HostBridgeSlot or PcLayout.EduSlot or PcLayout.PciTestdevSlot;
                var id = dev switch { PcLayout.EduSlot => 0x11e8_1234u, PcLayout.PciTestdevSlot => 0x0005_1b36u, _ => 0x1237_8086u };
                Conf1(dev, 0x00, 4, write: false, present ? id : 0xFFFF_FFFF);
                if (!present) continue;
                Conf1(dev, 0x08, 4, write: false, dev == PcLayout.EduSlot ? 0x00ff_0010u : 0x0600_0002u);
                Conf1(dev, 0x0e, 1, write: false, 0x00);
                if (dev == PcLayout.HostBridgeSlot) continue;
                Conf1(dev, 0x10, 4, write: true, 0xFFFF_FFFF);
                Conf1(dev, 0x10, 4, write: false, 0xFFF0_0000);
                Conf1(dev, 0x10, 4, write: true, (uint)PcLayout.PciMmioWindowBase);
                Conf1(dev, 0x04, 2, write: true, 0x0006);
                Conf1(dev, 0x3c, 1, write: true, PcLayout.EduIrq);
            }
        }

        public void EcamHeader(int dev)
        {
            foreach (var offset in new ulong[] { 0x00, 0x04, 0x08, 0x10, 0x34 })
                Add(ExitReason.Mmio, TraceAccess.MmioRead, PcLayout.EcamBase + ((ulong)dev << 15) + offset, 4, 0, _ecam, ExitRecord.None, 400, 1200,
                    new Pci.PciAddress(0, dev, 0), (int)offset);
        }

        public void EduSession()
        {
            Edu(0, write: false, 0x010000ed);
            Edu(1, write: true, 0x12345678);
            Edu(1, write: false, ~0x12345678u);
            Edu(2, write: true, 10);
            var polls = 1 + _random.Next(3);
            for (var i = 0; i < polls; i++) Edu(3, write: false, i + 1 < polls ? 1u : 0u);
            Edu(2, write: false, 3628800);
        }

        public void Serial(string text)
        {
            foreach (var c in text)
            {
                Add(ExitReason.Io, TraceAccess.PioRead, PcLayout.Com1Port + 5u, 1, 0x60, _serial, 5, 200, 600);
                Add(ExitReason.Io, TraceAccess.PioWrite, PcLayout.Com1Port, 1, c, _serial, 0, 300, 2500);
            }
        }

        public void Halt()
        {
            _now += 7000;
            Trace.Add(new ExitRecord(_now, ExitReason.Hlt, TraceAccess.None, 0, 0, 0, Rip(), ExitFlags.None, ExitRecord.None, ExitRecord.None, 7000, 150));
        }

        private void Conf1(int dev, int offset, int size, bool write, uint value)
        {
            var address = 0x8000_0000u | (uint)dev << 11 | (uint)(offset & 0xFC);
            if (address != _latch)
            {
                Add(ExitReason.Io, TraceAccess.PioWrite, PcLayout.PciConfigAddressPort, 4, address, _confAddress, 0, 250, 700);
                _latch = address;
            }
            Add(ExitReason.Io, write ? TraceAccess.PioWrite : TraceAccess.PioRead, PcLayout.PciConfigDataPort + (uint)(offset & 3), size,
                value, _confData, 0, 400, 1500, new Pci.PciAddress(0, dev, 0), offset);
        }

        private void Edu(int register, bool write, uint value) =>
            Add(ExitReason.Mmio, write ? TraceAccess.MmioWrite : TraceAccess.MmioRead, PcLayout.PciMmioWindowBase + EduOffsets[register], 4,
                value, _edu, (ushort)register, 350, 2000);

        // A configuration access's record carries the function and register the host reached, as the run loop's do.
        private void Add(ExitReason reason, TraceAccess access, ulong address, int size, ulong value, ushort source, ushort register,
            int minHandler, int maxHandler, Pci.PciAddress? function = null, int configRegister = 0)
        {
            // The final record is reserved for the HLT that ends every sample.
            if (Remaining <= 1) return;
            var run = 6500 + _random.Next(2000);
            var handler = minHandler + _random.Next(maxHandler - minHandler) + (_random.Next(1000) == 0 ? 40_000 : 0);
            _now += run;
            var record = new ExitRecord(_now, reason, access, address, (byte)size, value, Rip(), ExitFlags.None, source, register, run, handler);
            Trace.Add(function is { } f ? record.WithConfigTarget(f, configRegister) : record);
            _now += handler;
        }

        private ulong Rip() => PcLayout.DefaultRealModeLoadAddress + (ulong)(Trace.Count * 3 % 0x200);
    }
}
