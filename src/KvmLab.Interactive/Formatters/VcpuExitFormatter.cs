using System.Globalization;
using KvmLab.Kvm;
using KvmLab.Tracing;

namespace KvmLab.Interactive.Formatters;

/// <summary>
/// One KVM_RUN return as the fields of kvm_run it was decoded from: the exit reason, then the members of the
/// union's view that reason selects (io.* for KVM_EXIT_IO, mmio.* for KVM_EXIT_MMIO, the summary otherwise).
/// </summary>
public sealed class VcpuExitFormatter : KvmLabFormatter<VcpuExit>
{
    /// <inheritdoc />
    protected override void WriteValue(VcpuExit value, TextWriter writer)
    {
        var inv = CultureInfo.InvariantCulture;
        var rows = new List<IReadOnlyList<string>>
        {
            new[] { "exit_reason", $"KVM_EXIT_{ExitReasonNames.Of(value.Reason)} ({value.RawReason.ToString(inv)})" },
        };
        switch (value.Reason)
        {
            case ExitReason.Io:
                var io = value.Io;
                rows.Add(["io.direction", io.Direction == IoDirection.Out ? "KVM_EXIT_IO_OUT (1)" : "KVM_EXIT_IO_IN (0)"]);
                rows.Add(["io.port", "0x" + io.Port.ToString("x4", inv)]);
                rows.Add(["io.size", io.Size.ToString(inv)]);
                rows.Add(["io.count", io.Count.ToString(inv)]);
                rows.Add(["io.data_offset", "0x" + io.DataOffset.ToString("x", inv) + " (the data sits this far into the vCPU mapping, past struct kvm_run)"]);
                if (io.IsWrite) rows.Add(["data (first element)", "0x" + io.Value.ToString("x", inv)]);
                break;
            case ExitReason.Mmio:
                var mmio = value.Mmio;
                rows.Add(["mmio.phys_addr", "0x" + mmio.Address.ToString("x8", inv)]);
                rows.Add(["mmio.len", mmio.Length.ToString(inv)]);
                rows.Add(["mmio.is_write", mmio.IsWrite ? "1" : "0"]);
                if (mmio.IsWrite) rows.Add(["mmio.data", "0x" + mmio.Data.ToString("x", inv)]);
                break;
            default:
                rows.Add(["details", value.ToString()]);
                break;
        }
        Html.Table(writer, ["kvm_run field", "value"], rows);
    }
}
