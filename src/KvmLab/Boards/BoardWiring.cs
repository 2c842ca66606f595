using KvmLab.Devices;
using KvmLab.Memory;
using KvmLab.Pci;

using KvmLab.Interrupts;

namespace KvmLab.Boards;

/// <summary>
/// A <see cref="Board"/> built onto "io" and "memory" address spaces: the PCI host with the board's host bridge, every
/// PCI function on its bus, COM1, isa-debug-exit and port 0x80. <see cref="Machine"/> and the device fuzzer both build their
/// devices here, so they cannot wire a board differently.
/// </summary>
public sealed class BoardWiring
{
    private readonly Dictionary<string, PciDevice> _byId = new(StringComparer.Ordinal);

    /// <summary>Builds <paramref name="board"/>'s devices and maps them into <paramref name="io"/> and <paramref name="memory"/>.</summary>
    /// <exception cref="ArgumentException">A line names a bus that is not a bridge built before it, or a slot is taken.</exception>
    internal BoardWiring(Board board, AddressSpace io, AddressSpace memory, IInterruptSink interrupts, IGuestPhysicalMemory dma, BoardContext context)
    {
        ArgumentNullException.ThrowIfNull(board);
        ArgumentNullException.ThrowIfNull(context);
        Board = board;
        Pci = new PciHost(memory, io, interrupts, dma, board.CreateHostBridge(context), board.HostBridgeOwner);
        foreach (var line in board.Devices)
        {
            PciBus bus = Pci.Bus;
            if (line.Bus is { } busId)
            {
                bus = _byId.TryGetValue(busId, out var parent) && parent is PciBridge bridge
                    ? bridge.Secondary
                    : throw new ArgumentException($"{line}: '{busId}' is not a bridge listed before it on board {board.Name}.", nameof(board));
            }

            var device = line.Create(context);
            bus.Attach(device, line.Slot, line.Function, line.IrqLine);
            _byId.Add(line.Id, device);
        }

        Serial = new Serial16550(interrupts, PcLayout.Com1Irq, context.Options.SerialEcho);
        io.Root.AddSubregion(PcLayout.Com1Port, Serial.Region);
        IsaDebugExit = new IsaDebugExit();
        io.Root.AddSubregion(PcLayout.IsaDebugExitPort, IsaDebugExit.Region);
        Port80 = new Ioport80();
        io.Root.AddSubregion(Ioport80.Port, Port80.Region);
    }

    /// <summary>The board that was built.</summary>
    public Board Board { get; }

    /// <summary>The PCI host (conf1, ECAM where the board has it, the root bus).</summary>
    public PciHost Pci { get; }

    /// <summary>COM1.</summary>
    internal Serial16550 Serial { get; }

    /// <summary>isa-debug-exit.</summary>
    internal IsaDebugExit IsaDebugExit { get; }

    /// <summary>Port 0x80, as QEMU's pc and q35 have it.</summary>
    internal Ioport80 Port80 { get; }

    /// <summary>The PCI functions by their board id.</summary>
    public IReadOnlyDictionary<string, PciDevice> Devices => _byId;

    /// <summary>The first function of type <typeparamref name="T"/>, or null.</summary>
    public T? Device<T>() where T : PciDevice => _byId.Values.OfType<T>().FirstOrDefault();
}
