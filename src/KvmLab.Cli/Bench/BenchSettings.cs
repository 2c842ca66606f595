namespace KvmLab.Cli.Bench;

/// <summary>How much work each benchmark does.</summary>
/// <param name="Exits">Exits per round and variant of the exit-cost benchmark.</param>
/// <param name="Rounds">Rounds of the exit-cost benchmark.</param>
/// <param name="MachineRounds">Machines created and disposed.</param>
/// <param name="TraceRecords">Records of the exported trace and of the charted trace.</param>
/// <param name="StartRepetitions">Process starts of kvmlab and of QEMU.</param>
/// <param name="RuntimeVariants">Also time kvmlab under other runtime settings.</param>
/// <param name="OffloadWrites">pci-testdev writes per BAR in the offload benchmark.</param>
/// <param name="OffloadRounds">Rounds of the offload benchmark.</param>
/// <param name="DispatchExits">Exits per round and case of the dispatch benchmark.</param>
/// <param name="DispatchRounds">Rounds of the dispatch benchmark.</param>
/// <param name="DispatchWarmUp">How long the dispatch benchmark runs before it measures (tiered compilation).</param>
/// <param name="StreamExits">Real exits of the long run streamed to a trace file.</param>
internal sealed record BenchSettings(long Exits, int Rounds, int MachineRounds, int TraceRecords, int StartRepetitions,
    bool RuntimeVariants, int OffloadWrites, int OffloadRounds, int DispatchExits, int DispatchRounds, TimeSpan DispatchWarmUp, long StreamExits)
{
    /// <summary>The full run behind the published table (about seven minutes on 2 loaded cores under kvm_pvm, half of it the
    /// 10,000,000-exit streamed run).</summary>
    public static BenchSettings Full { get; } = new(50_000, 5, 20, 1_000_000, 7, true, 10_000, 3, 20_000, 15, TimeSpan.FromSeconds(1.5), 10_000_000);

    /// <summary>A few seconds: every figure measured, none of them precisely.</summary>
    public static BenchSettings Quick { get; } = new(5_000, 2, 3, 20_000, 1, false, 500, 1, 5_000, 5, TimeSpan.FromSeconds(0.5), 100_000);
}
