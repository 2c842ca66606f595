using KvmLab.Loading;

namespace KvmLab.Fuzzing;

/// <summary>Limits and shape of a <see cref="GuestFuzzer"/> session. The defaults keep 10,000 runs to a few minutes on 2 cores.</summary>
internal sealed record GuestFuzzOptions
{
    /// <summary>The session seed: with <see cref="Runs"/>, <see cref="Workers"/> and <see cref="RecycleEvery"/> it fixes every case and the machine it runs on.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>How many cases to run.</summary>
    public long Runs { get; init; } = 1000;

    /// <summary>Index of the first case (to replay one case: its index and <see cref="Runs"/> = 1).</summary>
    public long FirstCase { get; init; }

    /// <summary>CPU modes cases are made for.</summary>
    public IReadOnlyList<CpuMode> Modes { get; init; } = [CpuMode.Real, CpuMode.Protected, CpuMode.Long];

    /// <summary>Exit limit of each run.</summary>
    public long MaxExits { get; init; } = 2000;

    /// <summary>Wall-time limit of each run (a guest spinning without exits ends here).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How late after <see cref="Timeout"/> a run may return before it counts as a host fault (a missed deadline).</summary>
    public TimeSpan DeadlineSlack { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Parallel workers, each with its own machine (default: one per core).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// A worker builds a fresh machine after this many runs: between them the machine is reused (image reloaded,
    /// low RAM cleared), so device state (BARs, edu, UART) may carry over within a batch.
    /// </summary>
    public int RecycleEvery { get; init; } = 25;

    /// <summary>Options of every machine (default: a short halt check so a final HLT is seen quickly).</summary>
    public MachineOptions Machine { get; init; } = new() { HaltCheckInterval = TimeSpan.FromMilliseconds(2) };

    /// <summary>How a loaded case is run (default <see cref="KvmLab.Machine.Run(RunOptions?)"/>); tests replace it to
    /// make a run that ignores its deadline, or one that never comes back, and watch the watchdog catch it.</summary>
    internal Func<Machine, FuzzCase, RunOptions, RunResult>? Runner { get; init; }
}
