using KvmLab.Notebooks;

namespace KvmLab.Tracing;

/// <summary>A trace record with its device, region and register names resolved.</summary>
/// <param name="Sequence">Index in the trace.</param>
/// <param name="Record">The raw record.</param>
/// <param name="Device">Owner device, or null.</param>
/// <param name="Region">Memory region name, or null.</param>
/// <param name="Register">Register name, or null.</param>
[TypeFormatterSource(TypeFormatterSourceAttribute.KvmLabSource)]
public sealed record ResolvedExit(int Sequence, ExitRecord Record, string? Device, string? Region, string? Register)
{
    /// <summary>"edu.FACTORIAL", "serial", or the access kind when nothing claimed it.</summary>
    public string Target => Device is null ? (Record.Flags.HasFlag(ExitFlags.Unassigned) ? "unassigned" : "")
        : Register is null ? Device : $"{Device}.{Register}";

    /// <summary>Exit reason as the kernel spells it (KVM_EXIT_IO -> "IO").</summary>
    public string ReasonName => ExitReasonNames.Of(Record.Reason);

    /// <inheritdoc />
    public override string ToString()
    {
        var r = Record;
        if (r.Access == TraceAccess.None) return $"#{Sequence} {ReasonName} rip=0x{r.Rip:x}";
        var width = r.Access.IsPio() ? 4 : 8;
        return $"#{Sequence} {ReasonName} {r.Access.Label()} 0x{r.Address.ToString("x" + width)} size={r.Size} value=0x{r.Value:x} {Target} rip=0x{r.Rip:x}"
            + (r.Flags == ExitFlags.None ? "" : $" [{r.Flags}]");
    }
}
