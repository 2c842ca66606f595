using System.Buffers.Binary;
using System.Diagnostics;
using KvmLab.Boards;
using KvmLab.Devices;
using KvmLab.Kvm;
using KvmLab.Memory;
using KvmLab.Pci;

namespace KvmLab.Fuzzing;

/// <summary>
/// Drives a board's devices without KVM: the "io" and "memory" address spaces with the PCI host (conf1, and ECAM on
/// q35, enabled through PCIEXBAR before the first operation), the board's PCI functions, COM1 and isa-debug-exit,
/// built by the same <see cref="BoardWiring"/> as <see cref="Machine"/>'s, guest RAM an mmap'ed
/// <see cref="GuestMemory"/> behind the real DMA path. Operations are port, MMIO and configuration accesses of every
/// size and alignment, BAR moves while the BAR is in use, and edu DMA with hostile addresses and lengths. After each
/// one <see cref="CheckInvariants"/> verifies read-only configuration bits, BAR masks and mappings, and that no
/// guest-memory call reached outside RAM.
/// </summary>
internal sealed class DeviceFuzzer : IDisposable
{
    /// <summary>Guest RAM of the bench: 1 MiB at guest-physical 0.</summary>
    public const ulong RamSize = 1 << 20;

    private static readonly ulong[] Counts = [0, 1, 7, 8, 16, 256, 2048, 4095, 4096, 4097, 0x10000, ulong.MaxValue, ulong.MaxValue - 7, 1UL << 63];

    private readonly GuestMemory _ram;
    private readonly CheckedGuestMemory _checked;
    private readonly Dictionary<PciDevice, byte[]> _initialConfig = new();
    private long _time;
    private long _barMoves;

    // Every BAR of every function but the host bridge: what AnyBar addresses and MoveBar moves.
    private readonly List<(PciDevice Device, PciBar Bar)> _bars = [];

    /// <summary>Builds the bench with <paramref name="board"/>'s devices (default <see cref="Board.Pc"/>); the board
    /// must keep edu and pci-testdev, the devices the BAR and DMA operations drive.</summary>
    /// <exception cref="ArgumentException">The board has no edu or no pci-testdev.</exception>
    public DeviceFuzzer(Board? board = null)
    {
        board ??= Board.Pc;
        _ram = GuestMemory.Allocate(0, RamSize);
        _checked = new CheckedGuestMemory(new RamDma(_ram), 0, RamSize);
        Clock = new DeviceClock(() => _time);
        Wiring = new BoardWiring(board, Io, Memory, Interrupts, _checked, new BoardContext(Clock, new MachineOptions()));
        Host = Wiring.Pci;
        Edu = Wiring.Device<Edu>() ?? throw new ArgumentException($"Board {board.Name} has no edu for the fuzzer to drive.", nameof(board));
        Testdev = Wiring.Device<PciTestdev>() ?? throw new ArgumentException($"Board {board.Name} has no pci-testdev for the fuzzer to drive.", nameof(board));
        Serial = Wiring.Serial;
        IsaDebugExit = Wiring.IsaDebugExit;
        if (Host.HostBridge is KvmLab.Pci.Q35.Q35HostBridge)
        {
            Host.WriteConfig(0, 0, KvmLab.Pci.Q35.Q35HostBridge.PciExBar, 4, (uint)PcLayout.EcamBase | (uint)KvmLab.Pci.Q35.Q35HostBridge.PciExBarEnable);
        }

        Host.Bus.MappingChanged += _ => _barMoves++;
        foreach (var device in Host.Devices)
        {
            _initialConfig[device] = device.Config.ToArray();
            if (device == Host.HostBridge) continue;
            foreach (var bar in device.Bars)
                if (bar is not null) _bars.Add((device, bar));
        }
    }

    /// <summary>The board's devices as built.</summary>
    public BoardWiring Wiring { get; }

    /// <summary>The port address space.</summary>
    public AddressSpace Io { get; } = AddressSpace.CreateIo();

    /// <summary>The memory address space.</summary>
    public AddressSpace Memory { get; } = AddressSpace.CreateMemory();

    /// <summary>Counts interrupts instead of sending them.</summary>
    public CountingInterruptSink Interrupts { get; } = new();

    /// <summary>Device time, advanced only by <see cref="DeviceOperationKind.AdvanceTime"/>.</summary>
    public DeviceClock Clock { get; }

    /// <summary>The PCI host.</summary>
    public PciHost Host { get; }

    /// <summary>edu at 00:02.0.</summary>
    public Edu Edu { get; }

    /// <summary>pci-testdev at 00:03.0.</summary>
    public PciTestdev Testdev { get; }

    /// <summary>COM1.</summary>
    public Serial16550 Serial { get; }

    /// <summary>isa-debug-exit.</summary>
    public IsaDebugExit IsaDebugExit { get; }

    /// <summary>BAR mapping changes so far.</summary>
    public long BarMoves => _barMoves;

    /// <summary>Invariant violations found by the guest-memory check so far (others come from <see cref="CheckInvariants"/>).</summary>
    public IReadOnlyList<string> MemoryViolations => _checked.Violations;

    /// <summary>Runs <paramref name="operations"/> random operations of seed <paramref name="seed"/>, checking invariants after each.</summary>
    public static DeviceFuzzReport Run(ulong seed, long operations, Board? board = null)
    {
        var started = Stopwatch.GetTimestamp();
        var kinds = new Dictionary<DeviceOperationKind, long>();
        var violations = new List<string>();
        using var fuzzer = new DeviceFuzzer(board);
        var r = new FuzzRandom(seed);
        long done = 0;
        for (; done < operations && violations.Count < 100; done++)
        {
            var op = Random(ref r);
            kinds[op.Kind] = kinds.GetValueOrDefault(op.Kind) + 1;
            try
            {
                fuzzer.Execute(op);
            }
            catch (Exception e)
            {
                violations.Add($"operation {done} ({op}) threw {e.GetType().Name}: {e.Message}");
                continue;
            }
            foreach (var v in fuzzer.CheckInvariants())
                violations.Add($"after operation {done} ({op}): {v}");
        }
        var memory = fuzzer._checked;
        return new DeviceFuzzReport(seed, done, kinds, fuzzer.BarMoves, memory.Served, memory.Refused, memory.Served + memory.Refused,
            violations, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>A random operation, biased towards the addresses and values where devices live and break.</summary>
    public static DeviceOperation Random(ref FuzzRandom r)
    {
        var kind = (DeviceOperationKind)r.Next(Enum.GetValues<DeviceOperationKind>().Length);
        var target = (DeviceTarget)r.Next(Enum.GetValues<DeviceTarget>().Length);
        ulong offset = r.Next(4) switch
        {
            0 => (ulong)r.Next(16),
            1 => (ulong)r.Next(0x100),
            2 => (ulong)r.Next(1 << 20),
            _ => r.NextUInt64(),
        };
        ulong value = r.Next(5) switch
        {
            0 => 0,
            1 => ulong.MaxValue,
            2 => (ulong)r.Next((int)RamSize),
            3 => RamSize - (ulong)r.Next(1, 64),
            _ => r.NextUInt64(),
        };
        if (kind == DeviceOperationKind.EduDma)
            return new DeviceOperation(kind, target, DmaAddress(ref r), r.Next(1, 9), DmaAddress(ref r), r.Pick(Counts) + (r.OneIn(3) ? (ulong)r.Next(64) : 0));
        if (kind == DeviceOperationKind.MoveBar)
            value = r.Next(3) switch
            {
                0 => PcLayout.PciMmioWindowBase + (ulong)r.Next(0x40) * 0x10_0000,
                1 => PcLayout.PciIoWindowBase + (ulong)r.Next(0x40) * 0x100,
                _ => value,
            };
        return new DeviceOperation(kind, target, offset, r.Next(1, 9), value, r.NextUInt64() & 0xFFFF);
    }

    // One side of a DMA must hit edu's buffer window for a transfer to start at all; the RAM side is where hostility pays.
    private static ulong DmaAddress(ref FuzzRandom r) => r.Next(8) switch
    {
        0 or 1 or 2 => Edu.DmaBufferAddress + (ulong)r.Next(Edu.DmaBufferSize + 16),
        3 => (ulong)r.Next((int)RamSize),
        4 => RamSize - (ulong)r.Next(1, 4200),
        5 => Edu.DmaAddressMask - (ulong)r.Next(64),
        6 => ulong.MaxValue - (ulong)r.Next(4200),
        _ => r.NextUInt64(),
    };

    /// <summary>Performs <paramref name="op"/> the way guest accesses reach the devices. Exceptions escape (they are findings).</summary>
    public void Execute(in DeviceOperation op)
    {
        int size = Math.Clamp(op.Size, 1, 8);
        switch (op.Kind)
        {
            case DeviceOperationKind.PioRead:
                Io.Read(Address(op.Target, op.Offset, io: true), size, out _);
                break;
            case DeviceOperationKind.PioWrite:
                Io.Write(Address(op.Target, op.Offset, io: true), size, op.Value);
                break;
            case DeviceOperationKind.MmioRead:
                Memory.Read(Address(op.Target, op.Offset, io: false), size, out _);
                break;
            case DeviceOperationKind.MmioWrite:
                Memory.Write(Address(op.Target, op.Offset, io: false), size, op.Value);
                break;
            case DeviceOperationKind.ConfigRead:
                Io.Read(SelectConfig(op.Offset), size, out _);
                break;
            case DeviceOperationKind.ConfigWrite:
                Io.Write(SelectConfig(op.Offset), size, op.Value);
                break;
            case DeviceOperationKind.MoveBar:
                MoveBar(op);
                break;
            case DeviceOperationKind.EduDma:
                StartDma(op);
                break;
            case DeviceOperationKind.AdvanceTime:
                _time += (long)(op.Value % (ulong)Stopwatch.Frequency);
                Clock.RunDue();
                break;
        }
    }

    /// <summary>
    /// Checks what must hold whatever the guest did: bits the write masks protect still read as at reset (identity,
    /// header, BAR type and size bits: the BAR masks), every BAR mapped exactly where its register and the command
    /// register say (and nowhere when they say so), and no guest-memory call served outside RAM. Empty when all hold.
    /// </summary>
    public IReadOnlyList<string> CheckInvariants()
    {
        var violations = new List<string>(_checked.Violations);
        _checked.Violations.Clear();
        foreach (var (device, initial) in _initialConfig)
        {
            var config = device.Config;
            var writable = device.WriteMask;
            var clearable = device.WriteOneToClearMask;
            for (int i = 0; i < device.ConfigSize; i++)
            {
                if (i is PciConfig.Status or PciConfig.Status + 1 || device.DeviceChangesConfigByte(i))
                    continue;
                int fixedBits = ~(writable[i] | clearable[i]) & 0xFF;
                if ((config[i] & fixedBits) != (initial[i] & fixedBits))
                    violations.Add($"{device.Name} config byte 0x{i:x2} read-only bits changed: 0x{initial[i]:x2} -> 0x{config[i]:x2} (mask 0x{fixedBits:x2})");
            }
            foreach (var bar in device.Bars)
            {
                if (bar is not null)
                    CheckBar(device, bar, violations);
            }
        }
        return violations;
    }

    /// <summary>Unmaps guest RAM.</summary>
    public void Dispose() => _ram.Dispose();

    private void CheckBar(PciDevice device, PciBar bar, List<string> violations)
    {
        var space = bar.Kind == PciBarKind.Io ? device.Bus!.IoRoot : device.Bus!.MemoryRoot;
        var region = bar.Region;
        ulong raw = BinaryPrimitives.ReadUInt32LittleEndian(device.Config[bar.ConfigOffset..]);
        if (bar.Kind == PciBarKind.Memory64)
            raw |= (ulong)BinaryPrimitives.ReadUInt32LittleEndian(device.Config[(bar.ConfigOffset + 4)..]) << 32;
        ulong typeMask = bar.Kind == PciBarKind.Io ? 0x3UL : 0xFUL;
        if ((raw & (bar.Size - 1) & ~typeMask) != 0)
            violations.Add($"{device.Name} BAR{bar.Index} 0x{raw:x} has bits set below its size 0x{bar.Size:x}");
        if (bar.MappedAddress is { } at)
        {
            ushort decode = bar.Kind == PciBarKind.Io ? PciConfig.CommandIo : PciConfig.CommandMemory;
            if ((device.Command & decode) == 0)
                violations.Add($"{device.Name} BAR{bar.Index} is mapped at 0x{at:x} although the command register 0x{device.Command:x4} disables decoding");
            if (at != (raw & ~(bar.Size - 1)))
                violations.Add($"{device.Name} BAR{bar.Index} is mapped at 0x{at:x} but its register says 0x{raw & ~(bar.Size - 1):x}");
            if (!ReferenceEquals(region.Container, space) || region.Address != at)
                violations.Add($"{device.Name} BAR{bar.Index} claims 0x{at:x} but its region {region} is not there in '{space.Name}'");
        }
        else if (region.Container is not null)
        {
            violations.Add($"{device.Name} BAR{bar.Index} is unmapped but its region {region} is still in the address space");
        }
    }

    private ulong Address(DeviceTarget target, ulong offset, bool io) => target switch
    {
        DeviceTarget.Ecam => PcLayout.EcamBase + (offset & (PcLayout.EcamSize - 1)),
        DeviceTarget.EduBar => BarBase(Edu, 0) + (offset & (Edu.MmioSize - 1)),
        DeviceTarget.TestdevMemoryBar => BarBase(Testdev, 0) + (offset & 0xFFF),
        DeviceTarget.TestdevIoBar => BarBase(Testdev, 1) + (offset & 0xFF),
        DeviceTarget.Conf1 => PcLayout.PciConfigAddressPort + (offset & 7),
        DeviceTarget.Com1 => PcLayout.Com1Port + (offset & 7),
        DeviceTarget.IsaDebugExit => PcLayout.IsaDebugExitPort + (offset & 1),
        DeviceTarget.RamEnd => RamSize - 1 - (offset & 0xF),
        DeviceTarget.AnyBar => AnyBar(offset, io),
        _ => io ? offset & 0x1FFFF : offset,
    };

    // Conf1: the low 24 bits of the offset pick bus/device/function/register, bits 24-25 the byte of the data port.
    private ulong SelectConfig(ulong offset)
    {
        Io.Write(PcLayout.PciConfigAddressPort, 4, PciHost.ConfigAddressEnable | (uint)(offset & 0xFFFFFF));
        return PcLayout.PciConfigDataPort + (offset >> 24 & 3);
    }

    private static ulong BarBase(PciDevice device, int index)
    {
        var bar = device.Bars[index]!;
        return bar.MappedAddress ?? (BinaryPrimitives.ReadUInt32LittleEndian(device.Config[bar.ConfigOffset..]) & ~(uint)(bar.Size - 1));
    }

    // Sizes 1..6: edu's and pci-testdev's BARs (their moves race DMA and ioeventfd tests); 7 and 8: any BAR of the board.
    private void MoveBar(in DeviceOperation op)
    {
        var (device, index) = op.Size >= 7
            ? (_bars[(int)(op.Extra % (ulong)_bars.Count)].Device, _bars[(int)(op.Extra % (ulong)_bars.Count)].Bar.Index)
            : (op.Size % 3) switch { 0 => ((PciDevice)Edu, 0), 1 => (Testdev, 0), _ => (Testdev, 1) };
        int offset = PciConfig.Bar0 + index * 4;
        bool io = device.Bars[index]!.Kind == PciBarKind.Io;
        uint address = io ? (uint)op.Value & 0xFFFF : (uint)op.Value;
        // Straight to the function: one behind a bridge without bus numbers has no configuration cycle that reaches it.
        device.WriteConfig(offset, 4, address);
        device.WriteConfig(PciConfig.Command, 2, (uint)op.Extra);
    }

    private ulong AnyBar(ulong offset, bool io)
    {
        var candidates = _bars.Where(b => (b.Bar.Kind == PciBarKind.Io) == io).ToList();
        if (candidates.Count == 0) return offset;
        var (device, bar) = candidates[(int)((offset >> 32) % (ulong)candidates.Count)];
        return BarBase(device, bar.Index) + (offset & (bar.Size - 1));
    }

    private void StartDma(in DeviceOperation op)
    {
        Host.WriteConfig(0, Edu.Address.DevFn, PciConfig.Command, 2, PciConfig.CommandMemory | (op.Size > 2 ? PciConfig.CommandBusMaster : 0u));
        ulong bar = BarBase(Edu, 0);
        if (Edu.Bars[0]!.MappedAddress is null)
        {
            Host.WriteConfig(0, Edu.Address.DevFn, PciConfig.Bar0, 4, (uint)PcLayout.PciMmioWindowBase);
            bar = BarBase(Edu, 0);
        }
        Memory.Write(bar + Edu.RegDmaSource, 8, op.Offset);
        Memory.Write(bar + Edu.RegDmaDestination, 8, op.Value);
        Memory.Write(bar + Edu.RegDmaCount, 8, op.Extra);
        ulong command = Edu.DmaRun | ((ulong)op.Size & 1) << 1 | ((ulong)op.Size & 4);
        Memory.Write(bar + Edu.RegDmaCommand, 8, command);
    }
}
