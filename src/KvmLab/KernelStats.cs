using KvmLab.Kvm;
using KvmLab.Kvm.Stats;

namespace KvmLab;

/// <summary>
/// The kernel's half of a <see cref="Machine"/>'s exits: its vCPU's and VM's KVM statistics (KVM_GET_STATS_FD, Linux
/// 5.14+, no root). KVM counts every exit it takes, including the ones it handles itself and never returns to user
/// space for: an in-kernel PIT or PIC port write, a LAPIC EOI, an ioeventfd, a coalesced MMIO write. Take a
/// <see cref="Snapshot"/> before and after a run (or a step) and the delta says what happened inside KVM meanwhile;
/// compare its <c>exits</c> with the exits KvmLab's trace saw.
/// </summary>
/// <remarks>The files are opened on first use and closed with the machine; a machine that never asks pays nothing.</remarks>
public sealed class KernelStats : IDisposable
{
    private readonly Machine _machine;
    private KvmStatsFile? _vcpu;
    private KvmStatsFile? _vm;

    internal KernelStats(Machine machine) => _machine = machine;

    /// <summary>vCPU 0's statistics file (exits, io_exits, mmio_exits, insn_emulation, pf_*, halt_*, ...).</summary>
    /// <exception cref="NotSupportedException">The kernel predates binary statistics (Linux 5.14).</exception>
    public KvmStatsFile Vcpu => _vcpu ??= _machine.Vcpu.OpenStats();

    /// <summary>The VM's statistics file (MMU and TLB counters).</summary>
    /// <exception cref="NotSupportedException">The kernel predates binary statistics (Linux 5.14).</exception>
    public KvmStatsFile Vm => _vm ??= _machine.Vm.OpenStats();

    /// <summary>True when this kernel offers binary statistics (KVM_CAP_BINARY_STATS_FD).</summary>
    public bool IsAvailable => _machine.Vm.CheckExtension(KvmCapability.BinaryStatsFd) != 0;

    /// <summary>Reads both files now.</summary>
    public KernelStatsSnapshot Snapshot() => new(Vcpu.Read(), Vm.Read());

    /// <summary>
    /// <see cref="Machine.Step"/> with the kernel's side of it: the one exit that reached user space, and what the
    /// vCPU's counters say KVM did since the previous one (exits it handled inside, emulated instructions, faults).
    /// Costs two reads of the stats file around the KVM_RUN; a plain <see cref="Machine.Step"/> costs none.
    /// </summary>
    public KernelStep Step(TimeSpan? timeout = null)
    {
        var before = Vcpu.Read();
        var exit = _machine.Step(timeout);
        return new KernelStep(exit, Vcpu.Read().Since(before));
    }

    /// <summary>Closes the files (the machine does this when it is disposed).</summary>
    public void Dispose()
    {
        _vcpu?.Dispose();
        _vm?.Dispose();
    }
}

/// <summary>One exit that reached user space and the vCPU's kernel counters over the KVM_RUN that led to it.</summary>
/// <param name="Exit">The exit, as <see cref="Machine.Step"/> returns it.</param>
/// <param name="Kernel">What the kernel counted during that KVM_RUN.</param>
public sealed record KernelStep(Tracing.ResolvedExit Exit, KvmStatsDelta Kernel)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Exit}  <- kernel: {Kernel}";
}

/// <summary>A <see cref="KernelStats"/> reading: the vCPU's and the VM's statistics at one moment.</summary>
/// <param name="Vcpu">vCPU 0's values.</param>
/// <param name="Vm">The VM's values.</param>
public sealed record KernelStatsSnapshot(KvmStatsSnapshot Vcpu, KvmStatsSnapshot Vm)
{
    /// <summary>Statistic <paramref name="name"/>, looked up in the vCPU's file, then the VM's.</summary>
    /// <exception cref="KeyNotFoundException">Neither file has it; the message lists the vCPU's.</exception>
    public ulong this[string name] => Vcpu.TryGet(name, out var v) ? v : Vm[name];

    /// <summary>What the kernel counted between <paramref name="earlier"/> and this snapshot.</summary>
    public KernelStatsDelta Since(KernelStatsSnapshot earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        return new KernelStatsDelta(Vcpu.Since(earlier.Vcpu), Vm.Since(earlier.Vm));
    }
}

/// <summary>The change of a machine's kernel statistics between two <see cref="KernelStatsSnapshot"/>s.</summary>
/// <param name="Vcpu">vCPU 0's counters.</param>
/// <param name="Vm">The VM's counters.</param>
public sealed record KernelStatsDelta(KvmStatsDelta Vcpu, KvmStatsDelta Vm)
{
    /// <summary>The change of <paramref name="name"/>, looked up in the vCPU's file, then the VM's.</summary>
    /// <exception cref="KeyNotFoundException">Neither file has it; the message lists the vCPU's.</exception>
    public long this[string name] => Vcpu.To.File.Find(name) is not null ? Vcpu[name] : Vm[name];

    /// <summary>The change of <paramref name="name"/>, or 0 where this kernel has no such statistic.</summary>
    public long GetValueOrDefault(string name) => Vcpu.To.File.Find(name) is not null ? Vcpu[name] : Vm.GetValueOrDefault(name);

    /// <summary>"exits +13, io_exits +11, ..." for the vCPU, then the VM's counters that moved.</summary>
    public override string ToString()
    {
        var vm = Vm.Changed;
        return vm.Count == 0 ? Vcpu.ToString() : $"{Vcpu}; VM: {Vm}";
    }
}
