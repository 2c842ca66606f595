using KvmLab.Pci;

namespace KvmLab.Boards;

/// <summary>
/// One line of a <see cref="Board"/>: a PCI function, where it sits, how KvmLab builds it and how QEMU gets the same
/// device. Everything that needs to know the machine (Machine, the fuzzer, QEMU's command line and region names, the
/// formatters) reads these lines, so a new device is one device file plus one line in a board.
/// </summary>
/// <param name="Type">QEMU's type name ("edu", "pcie-root-port", "virtio-rng-pci"), also what KvmLab calls the device.</param>
/// <param name="Id">Unique name on the board; QEMU's <c>id=</c> for devices others sit behind.</param>
/// <param name="Slot">Slot (device number) on its bus.</param>
/// <param name="Function">Function number.</param>
/// <param name="Create">Builds KvmLab's model of the device.</param>
/// <param name="Bus">The <see cref="Id"/> of the bridge the device sits behind, or null for the root bus.</param>
/// <param name="IrqLine">The GSI INTx# is wired to, or -1 when not wired.</param>
/// <param name="BuiltIn">Part of QEMU's machine type itself (no <c>-device</c> argument), like q35's ICH9 functions.</param>
/// <param name="QemuProperties">Extra <c>-device</c> properties, e.g. "chassis=1,slot=1".</param>
/// <param name="QemuRegions">Names of the QEMU MemoryRegions the device owns, for reading QEMU's traces.</param>
public sealed record BoardDevice(
    string Type,
    string Id,
    int Slot,
    int Function,
    Func<BoardContext, PciDevice> Create,
    string? Bus = null,
    int IrqLine = -1,
    bool BuiltIn = false,
    string? QemuProperties = null,
    IReadOnlyList<string>? QemuRegions = null)
{
    /// <summary>The address as lspci prints it, with the bus named by its bridge when behind one ("rp1:00.0").</summary>
    public string Location => $"{Bus ?? "00"}:{Slot:x2}.{Function:x}";

    /// <summary>The value of QEMU's <c>-device</c> argument, or null for a device QEMU's machine type has built in.</summary>
    public string? QemuDevice
    {
        get
        {
            if (BuiltIn)
            {
                return null;
            }

            var parts = new List<string> { Type, $"id={Id}" };
            if (Bus is not null)
            {
                parts.Add($"bus={Bus}");
            }

            parts.Add($"addr={Slot:x2}.{Function:x}");
            if (QemuProperties is not null)
            {
                parts.Add(QemuProperties);
            }

            return string.Join(",", parts);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Type} {Location}";
}
