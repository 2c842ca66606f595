using System.Globalization;

namespace KvmLab.Interactive.Formatters;

/// <summary>
/// A machine at a glance: RAM, the loaded guest, exits so far and how the last run stopped, with the memory map
/// (memory slots and both address spaces, <see cref="Machine.DescribeMemoryMap"/>) folded underneath.
/// </summary>
public sealed class MachineFormatter : KvmLabFormatter<Machine>
{
    /// <inheritdoc />
    protected override void WriteValue(Machine value, TextWriter writer)
    {
        var inv = CultureInfo.InvariantCulture;
        var image = value.Image is { } i
            ? $"{i.Name}: {i.Mode} mode, {i.Bytes.Length.ToString(inv)} bytes at 0x{i.LoadAddress.ToString("x", inv)}, entry 0x{i.Entry.ToString("x", inv)}"
            : "none";
        var board = value.Board.Board;
        var ecam = value.Pci.EcamRegion is { } e ? $"ECAM at 0x{e.Address.ToString("x", inv)}" : board.Name == "q35" ? "ECAM off until PCIEXBAR is enabled" : "no ECAM";
        var devices = string.Join(", ", new[] { $"{value.Pci.HostBridge.Name} 00:00.0 (conf1 0xcf8/0xcfc, {ecam})", "serial 0x3f8", "isa-debug-exit 0x501" }
            .Concat(board.Devices.Select(d => $"{d.Type} {value.Board.Devices[d.Id].Address}")));
        Html.Table(writer, ["property", "value"],
        [
            ["board", board.ToString()],
            ["RAM", $"0x{value.Options.RamSize.ToString("x", inv)} bytes at 0x0"],
            ["guest", image],
            ["devices", devices],
            ["in-kernel irqchip", value.Options.InKernelIrqchip ? "yes" : "no"],
            ["KVM exits so far", value.ExitCount.ToString("N0", inv)],
            ["trace records", value.Trace.Count.ToString("N0", inv)],
            ["last stop", value.LastStop?.ToString() ?? "not run yet"],
        ], "Machine");
        writer.Write("<details><summary>memory map</summary><pre>");
        writer.Write(Html.Text(value.DescribeMemoryMap()));
        writer.Write("</pre></details>");
    }
}
