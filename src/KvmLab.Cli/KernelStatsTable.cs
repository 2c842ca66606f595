using System.Globalization;
using System.Text;
using KvmLab.Kvm;

namespace KvmLab.Cli;

/// <summary>The <c>--kernel-stats</c> table: the vCPU's kernel counters over a run beside the exits kvmlab saw.</summary>
internal static class KernelStatsTable
{
    // Shown even when they did not move (where this kernel has them): the counters the exit path is made of.
    private static readonly string[] Always =
        ["exits", "io_exits", "mmio_exits", "insn_emulation", "halt_exits", "irq_exits", "pf_taken", "pf_emulate", "pf_mmio_spte_created"];

    public static string Render(KernelStatsDelta delta, Machine machine)
    {
        var sb = new StringBuilder();
        var vcpu = delta.Vcpu;
        sb.AppendLine(FormattableString.Invariant(
            $"kernel counters over the run ({vcpu.To.File.Id}, KVM_GET_STATS_FD, {machine.Kvm.Backend.ModuleName()}):"));
        // Exits that reached kvmlab, by kind, from its trace (complete when tracing is on, as kvmlab run has it).
        var traced = machine.Trace.Count == machine.ExitCount;
        var (userIo, userMmio) = traced ? UserExits(machine.Trace) : (0, 0);
        var pairs = new List<(string Name, long? User)> { ("exits", machine.ExitCount), ("io_exits", traced ? userIo : null), ("mmio_exits", traced ? userMmio : null) };
        var width = Math.Max(22, Always.Concat(vcpu.Changed.Select(c => c.Key)).Concat(delta.Vm.Changed.Select(c => "vm." + c.Key)).Max(n => n.Length));
        sb.AppendLine(FormattableString.Invariant($"  {"counter".PadRight(width)}  {"in KVM",10}  {"to kvmlab",10}  {"inside",8}"));
        foreach (var (name, user) in pairs)
        {
            if (vcpu.To.File.Find(name) is null) continue;
            var kernel = vcpu[name];
            // Fewer in the kernel's counter than reached kvmlab: this backend does not count these exits (kvm_pvm's
            // io_exits), or a KVM_RUN returned for a signal before entering the guest; no difference to show.
            var inside = user is not { } u ? "       -" : kernel >= u ? FormattableString.Invariant($"{kernel - u,8:N0}") : "     n/a";
            sb.AppendLine(FormattableString.Invariant(
                $"  {name.PadRight(width)}  {kernel,10:N0}  {(user is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-"),10}  {inside}  {Note(name)}").TrimEnd());
        }
        foreach (var name in Always.Skip(3))
            if (vcpu.To.File.Find(name) is not null)
                sb.AppendLine(FormattableString.Invariant($"  {name.PadRight(width)}  {vcpu[name],10:N0}  {"",10}  {"",8}  {Note(name)}").TrimEnd());
        foreach (var (name, value) in vcpu.Changed)
            if (!Always.Contains(name))
                sb.AppendLine(FormattableString.Invariant($"  {name.PadRight(width)}  {value,10:N0}"));
        foreach (var (name, value) in delta.Vm.Changed)
            sb.AppendLine(FormattableString.Invariant($"  {("vm." + name).PadRight(width)}  {value,10:N0}"));
        sb.AppendLine("  inside = in KVM - to kvmlab: exits the kernel finished without returning to user space (in-kernel PIT, PIC,");
        sb.AppendLine("  LAPIC, ioeventfd, coalesced MMIO, page faults, host interrupts). n/a: the kernel counted fewer than reached");
        sb.AppendLine("  kvmlab, so this backend does not count them all (kvm_pvm emulates port I/O without counting io_exits; its");
        sb.AppendLine("  insn_emulation shows the work instead), or a KVM_RUN returned for a signal before entering the guest.");
        return sb.ToString();
    }

    /// <summary>The port and MMIO exits in <paramref name="trace"/>'s consistent prefix: the exits that reached kvmlab,
    /// beside which the kernel's io_exits and mmio_exits are shown (here and in kvmlab stat).</summary>
    public static (long Io, long Mmio) UserExits(Tracing.ExitTrace trace)
    {
        long io = 0, mmio = 0;
        for (int i = 0, n = trace.Count; i < n; i++)
        {
            var reason = trace[i].Reason;
            if (reason == ExitReason.Io) io++;
            else if (reason == ExitReason.Mmio) mmio++;
        }
        return (io, mmio);
    }

    private static string Note(string name) => name switch
    {
        "exits" => "every exit KVM took, handled in the kernel or not",
        "io_exits" => "port I/O exits (in-kernel device or user space)",
        "mmio_exits" => "MMIO exits to user space",
        "insn_emulation" => "instructions KVM's emulator ran",
        "halt_exits" => "HLT exits",
        "irq_exits" => "exits for a host interrupt",
        "pf_taken" => "guest page faults KVM handled (NPF/EPT included)",
        "pf_emulate" => "faults resolved by emulating the instruction",
        "pf_mmio_spte_created" => "MMIO SPTEs cached for unbacked pages",
        _ => "",
    };
}
