using KvmLab.Devices;
using KvmLab.Devices.Virtio;
using KvmLab.Pci;
using KvmLab.Pci.Q35;

namespace KvmLab.Boards;

/// <summary>
/// A machine's board as data: its name and QEMU machine type, the host bridge, and the PCI functions with their slots,
/// buses and interrupt lines. COM1 (0x3F8, IRQ 4) and isa-debug-exit (0x501) sit on every board. <see cref="Pc"/>
/// mirrors QEMU's <c>-M pc</c> (i440FX, conf1 only), <see cref="Q35"/> mirrors <c>-M q35</c> (MCH with PCIEXBAR ECAM,
/// the ICH9 functions, a PCI Express root port).
/// </summary>
/// <param name="Name">KvmLab's name for the board, as <c>kvmlab run --machine</c> takes it.</param>
/// <param name="QemuMachine">QEMU's <c>-M</c> value.</param>
/// <param name="HostBridgeOwner">QEMU's type name of the PCI host, owner of the conf1 regions.</param>
/// <param name="CreateHostBridge">Builds the function at 00:00.0 (some of its registers depend on the machine, e.g.
/// the i440FX's RAM size byte).</param>
/// <param name="Devices">The PCI functions, bridges before the devices behind them.</param>
/// <param name="Description">One line for people.</param>
public sealed record Board(
    string Name,
    string QemuMachine,
    string HostBridgeOwner,
    Func<BoardContext, PciDevice> CreateHostBridge,
    IReadOnlyList<BoardDevice> Devices,
    string Description)
{
    /// <summary>The edu device's line on both boards: 00:02.0, INTA# on GSI 11 on pc.</summary>
    public static BoardDevice EduDevice(int irqLine) => new(
        "edu", "edu", PcLayout.EduSlot, 0, c => new Edu(c.Clock, c.Options.EduFactorialDelay, c.Options.EduDmaDelay),
        IrqLine: irqLine, QemuRegions: ["edu-mmio"]);

    /// <summary>pci-testdev's line on both boards: 00:03.0.</summary>
    public static BoardDevice PciTestdevDevice { get; } = new(
        "pci-testdev", "pci-testdev", PcLayout.PciTestdevSlot, 0, _ => new PciTestdev(),
        QemuRegions: ["pci-testdev-mmio", "pci-testdev-portio", "pci-testdev-membar"]);

    /// <summary>QEMU's <c>-M pc -nodefaults</c> with edu and pci-testdev: the i440FX host bridge, conf1 only, no ECAM.</summary>
    /// <remarks>
    /// QEMU's pc machine also has the PIIX3 functions at 00:01.0 (ISA bridge), 00:01.1 (IDE) and 00:01.3 (ACPI); KvmLab
    /// leaves them out: their configuration space matters to no guest of the library, and leaving them out keeps the
    /// bus scan of the first chapters short. Comparisons with QEMU list them as a known difference (KnownDifferences).
    /// </remarks>
    public static Board Pc { get; } = new(
        "pc", "pc", "i440FX-pcihost", c => new I440fxHostBridge(c.Options.RamSize),
        [EduDevice(PcLayout.EduIrq), PciTestdevDevice],
        "i440FX host bridge, conf1 only (QEMU -M pc)");

    /// <summary>
    /// QEMU's <c>-M q35 -nodefaults</c> with a PCI Express root port at 00:01.0, edu at 00:02.0, pci-testdev at
    /// 00:03.0, virtio-rng-pci (transitional, on the root bus) at 00:04.0 and a second virtio-rng-pci behind the root
    /// port (modern-only, a PCI Express endpoint, as QEMU makes it there): the MCH with PCIEXBAR (ECAM at 0xB0000000
    /// once enabled), and the ICH9 LPC, SATA and SMBus functions at 00:1f.0/2/3 that QEMU's q35 always has.
    /// </summary>
    /// <remarks>INTx# is not wired on this board: its guests use MSI and MSI-X, which need no routing.</remarks>
    public static Board Q35 { get; } = new(
        "q35", "q35", "q35-pcihost", _ => new Q35HostBridge(),
        [
            new("pcie-root-port", "rp1", 1, 0, _ => new PcieRootPort(chassis: 1, slot: 1), QemuProperties: "chassis=1,slot=1"),
            EduDevice(-1),
            PciTestdevDevice,
            new("virtio-rng-pci", "virtio-rng", 4, 0, _ => VirtioPci.CreateRng(), QemuRegions:
                ["virtio-pci", "virtio-pci-common-virtio-rng", "virtio-pci-isr-virtio-rng", "virtio-pci-device-virtio-rng",
                 "virtio-pci-notify-virtio-rng", "msix-table", "msix-pba"]),
            new("virtio-rng-pci", "virtio-rng-rp1", 0, 0, _ => VirtioPci.CreateRngBehindRootPort(), Bus: "rp1", QemuRegions:
                ["virtio-pci", "virtio-pci-common-virtio-rng", "virtio-pci-isr-virtio-rng", "virtio-pci-device-virtio-rng",
                 "virtio-pci-notify-virtio-rng", "msix-table", "msix-pba"]),
            new("ICH9-LPC", "ich9-lpc", 0x1F, 0, _ => new Ich9Lpc(), BuiltIn: true),
            new("ich9-ahci", "ich9-ahci", 0x1F, 2, _ => new Ich9Ahci(), BuiltIn: true),
            new("ICH9-SMB", "ich9-smbus", 0x1F, 3, _ => new Ich9Smbus(), BuiltIn: true),
        ],
        "MCH with PCIEXBAR (ECAM), ICH9, a PCI Express root port (QEMU -M q35)");

    /// <summary>The boards KvmLab has, by name.</summary>
    public static IReadOnlyList<Board> All { get; } = [Pc, Q35];

    /// <summary>The board called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No board has that name; the message lists the names.</exception>
    public static Board ByName(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase)) ??
        throw new ArgumentException($"There is no board '{name}'; choose one of: {string.Join(", ", All.Select(b => b.Name))}.", nameof(name));

    /// <summary>The line with <paramref name="id"/>, or null.</summary>
    public BoardDevice? Find(string id) => Devices.FirstOrDefault(d => d.Id == id);

    /// <summary>This board without the lines whose id or type is in <paramref name="ids"/>, nor the devices behind them.</summary>
    public Board Without(params string[] ids)
    {
        var removed = new HashSet<string>(ids, StringComparer.Ordinal);
        var kept = new List<BoardDevice>();
        foreach (var d in Devices)
        {
            if (removed.Contains(d.Id) || removed.Contains(d.Type) || (d.Bus is not null && removed.Contains(d.Bus)))
            {
                removed.Add(d.Id);
                continue;
            }

            kept.Add(d);
        }

        return this with { Devices = kept };
    }

    /// <summary>This board with <paramref name="device"/> added.</summary>
    /// <exception cref="ArgumentException">The id is taken, or the bus it names is not a line of this board.</exception>
    public Board With(BoardDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (Find(device.Id) is not null)
        {
            throw new ArgumentException($"Board {Name} already has a device with id '{device.Id}'.", nameof(device));
        }

        if (device.Bus is { } bus && Find(bus) is null)
        {
            throw new ArgumentException($"{device.Type} sits behind '{bus}', which board {Name} does not have.", nameof(device));
        }

        return this with { Devices = [.. Devices, device] };
    }

    /// <summary>QEMU's machine and device arguments for this board (after <c>-nodefaults</c>).</summary>
    public IReadOnlyList<string> QemuArguments()
    {
        var args = new List<string> { "-M", QemuMachine };
        foreach (var d in Devices)
        {
            if (d.QemuDevice is { } device)
            {
                args.AddRange(["-device", device]);
            }
        }

        return args;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Description}";
}
