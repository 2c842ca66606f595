using KvmLab.Fuzzing;
using KvmLab.Guests;
using KvmLab.Loading;

namespace KvmLab.Cli.Commands;

/// <summary><c>kvmlab fuzz</c>: random and mutated guests on real KVM, a device fuzzer without KVM, and machine churn; all must leave the host unharmed.</summary>
internal sealed class FuzzCommand : ICommand
{
    private static readonly string[] Flags = [];
    private static readonly string[] Valued = ["runs", "seed", "mode", "workers", "timeout", "max-exits", "recycle", "case", "after", "machines", "devices", "machine"];

    public string Name => "fuzz";

    public string Summary => "feed random guests and wild device accesses to KvmLab; report any host fault";

    public string Help => """
        usage: kvmlab fuzz [--runs N] [--seed S] [--mode real|protected|long|all] [options]
               kvmlab fuzz --devices N [--seed S] [--machine pc|q35]
               kvmlab fuzz --machines N

        Runs N generated guests (random bytes, instruction soup aimed at the devices, and mutations of the guest
        library) on KVM, each under an exit limit and a timeout, and prints how the runs ended. A host fault is an
        exception escaping the run loop, a missed deadline, a run that never comes back from KVM_RUN (a watchdog
        thread reports and cancels it, and the session goes on), an outcome the case cannot produce (e.g. Halted
        where the guest executed no HLT), a machine left unusable, or descriptors, mappings or threads still held
        after every machine was disposed. The last line is 'fuzz: N runs, 0 host faults' or names the failing case
        and the command that reproduces it on a machine in the same state (the cases that ran on its machine before
        it, then the case). Exit code 1 when a host fault was found.

        options:
          --runs N          cases to run (default 1000)
          --seed S          session seed (default 1)
          --mode M          real, protected, long or all (default all)
          --workers W       parallel machines (default: one per core)
          --timeout T       time limit of each run (default 50ms)
          --max-exits N     exit limit of each run (default 2000)
          --recycle K       build a fresh machine every K runs per worker (default 25)
          --case I          run only case I of the session, on a fresh machine
          --after A,B,...   with --case: first run cases A, B, ... on that machine, in order (a fault's
                            reproduce line lists the cases that ran on its machine before it)
          --devices N       instead: N random PIO/MMIO/config/DMA operations against the devices (no KVM needed),
                            on the board --machine names (default pc; q35 adds the root port, virtio-rng-pci with
                            MSI-X and the ICH9 functions)
          --machines N      instead: create and dispose N machines (half of them left to the finalizers) and
                            compare descriptors, mappings, threads and memory before and after

        examples:
          kvmlab fuzz --runs 10000 --seed 1
          kvmlab fuzz --seed 1 --case 4711
          kvmlab fuzz --seed 1 --case 4711 --after 4709,4707
          kvmlab fuzz --devices 200000 --seed 7
          kvmlab fuzz --devices 200000 --seed 7 --machine q35
          kvmlab fuzz --machines 10000
        """;

    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, Flags, Valued);
        if (a.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{a.Positionals[0]}'");
        var seed = a.GetNumber("seed", 1);
        if (a.Has("machines"))
            return Churn((int)Math.Min(a.GetNumber("machines", 1000), int.MaxValue));
        if (a.Has("devices"))
            return Devices(seed, (long)a.GetNumber("devices", 100_000), GuestSession.Board(a));
        return Guests(a, seed);
    }

    private static int Guests(Arguments a, ulong seed)
    {
        var modeText = a.Get("mode") ?? "all";
        var modes = ParseModes(modeText);
        var defaults = new GuestFuzzOptions();
        var options = defaults with
        {
            Seed = seed,
            Runs = (long)a.GetNumber("runs", 1000),
            Modes = modes,
            Workers = (int)Math.Clamp(a.GetNumber("workers", (ulong)defaults.Workers), 1, 64),
            Timeout = a.GetDuration("timeout", defaults.Timeout),
            MaxExits = (long)a.GetNumber("max-exits", (ulong)defaults.MaxExits),
            RecycleEvery = (int)Math.Clamp(a.GetNumber("recycle", (ulong)defaults.RecycleEvery), 1, int.MaxValue),
        };
        if (a.Has("after") && !a.Has("case"))
            throw new UsageException("--after needs --case: it names the cases to run before that one on the same machine");
        long[]? replay = a.Has("case") ? [.. ParseCases(a.Get("after")), (long)a.GetNumber("case", 0)] : null;
        if (replay is not null)
            options = options with { FirstCase = replay[^1], Runs = replay.Length, Workers = 1 };
        if (options.Timeout <= TimeSpan.Zero)
            throw new UsageException("--timeout must be positive");

        var generator = new FuzzCaseGenerator(modes, Templates(modes));
        var w = Console.Out;
        w.WriteLine($"fuzz: {options.Runs} runs, seed {seed}, modes {modeText}, {options.Workers} workers, " +
                    $"timeout {options.Timeout.TotalMilliseconds:F0} ms, max {options.MaxExits} exits, fresh machine every {options.RecycleEvery} runs, " +
                    $"{generator.Templates.Count} library images to mutate");
        long step = Math.Max(1, options.Runs / 10);
        long reported = 0;
        if (replay is { Length: > 1 })
            w.WriteLine($"replay: cases {string.Join(", ", replay[..^1])} then case {replay[^1]}, on one fresh machine");
        var report = replay is not null
            ? GuestFuzzer.Replay(options, generator, replay)
            : GuestFuzzer.Run(options, generator, done =>
            {
                if (done % step != 0 || Interlocked.Exchange(ref reported, done) == done) return;
                lock (w) w.WriteLine($"  {done} runs ...");
            });

        w.WriteLine();
        w.WriteLine("outcome           runs");
        foreach (var (reason, count) in report.Outcomes.OrderByDescending(o => o.Value))
            w.WriteLine($"  {reason,-14} {count,6}");
        w.WriteLine($"cases: {string.Join(", ", report.Kinds.OrderBy(k => k.Key).Select(k => $"{k.Value} {k.Key}"))}");
        w.WriteLine($"{report.Exits} exits, {report.Machines} machines, longest run {report.LongestRun.TotalMilliseconds:F1} ms, " +
                    $"{report.Elapsed.TotalSeconds:F1} s ({report.Elapsed.TotalMilliseconds / Math.Max(1, report.Runs):F2} ms per run)");
        w.WriteLine($"resources before: {report.Before}");
        w.WriteLine($"resources after:  {report.After}");
        foreach (var fault in report.Faults.Take(10))
            w.WriteLine($"HOST FAULT: {fault}");
        if (report.Passed)
        {
            w.WriteLine($"fuzz: {report.Runs} runs, 0 host faults");
            return 0;
        }
        var first = report.Faults.FirstOrDefault(f => f.Case is not null)?.Case;
        var limits = $"--timeout {options.Timeout.TotalMilliseconds:F0}ms --max-exits {options.MaxExits}";
        var session = $"kvmlab fuzz --runs {options.Runs} --seed {seed} --mode {modeText} --workers {options.Workers} {limits} --recycle {options.RecycleEvery}";
        var firstFault = report.Faults.FirstOrDefault(f => f.Case is not null);
        var after = firstFault is { Preceding.Count: > 0 } ? $" --after {string.Join(',', firstFault.Preceding)}" : "";
        w.WriteLine(first is null
            ? $"fuzz: {report.Runs} runs, {report.Faults.Count} host faults; reproduce: {session}"
            : $"fuzz: {report.Runs} runs, {report.Faults.Count} host faults; first in case {first.Index} (seed {seed}, case seed 0x{first.Seed:x16}); " +
              $"reproduce: kvmlab fuzz --seed {seed} --mode {modeText} {limits} --case {first.Index}{after}   or the whole session: {session}");
        return 1;
    }

    private static IEnumerable<long> ParseCases(string? list)
    {
        if (string.IsNullOrEmpty(list)) yield break;
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Arguments.TryParseNumber(part, out var index) || index > long.MaxValue)
                throw new UsageException($"--after: '{part}' is not a case number (give case numbers separated by commas, e.g. --after 12,14)");
            yield return (long)index;
        }
    }

    private static int Devices(ulong seed, long operations, Boards.Board board)
    {
        var report = DeviceFuzzer.Run(seed, operations, board);
        var w = Console.Out;
        w.WriteLine($"device fuzz: {report.Operations} operations on the {board.Name} board, seed {seed}, {report.Elapsed.TotalSeconds:F1} s");
        foreach (var (kind, count) in report.Kinds.OrderBy(k => k.Key))
            w.WriteLine($"  {kind,-14} {count,8}");
        w.WriteLine($"BAR moves: {report.BarMoves}, DMA transfers completed: {report.DmaCompleted}, refused: {report.DmaRefused}, " +
                    $"guest-memory calls checked: {report.MemoryCalls}");
        foreach (var v in report.Violations.Take(10))
            w.WriteLine($"VIOLATION: {v}");
        w.WriteLine(report.Passed
            ? $"fuzz: {report.Operations} device operations, 0 host faults"
            : $"fuzz: {report.Operations} device operations, {report.Violations.Count} host faults; reproduce: kvmlab fuzz --devices {operations} --seed {seed}");
        return report.Passed ? 0 : 1;
    }

    private static int Churn(int machines)
    {
        var report = MachineChurn.Run(machines);
        var w = Console.Out;
        w.WriteLine($"machines: {report.Machines} created ({report.Disposed} disposed, {report.Dropped} dropped for the finalizers) " +
                    $"in {report.Elapsed.TotalSeconds:F1} s ({report.Elapsed.TotalMilliseconds / Math.Max(1, report.Machines):F1} ms each)");
        w.WriteLine($"resources before: {report.Before}");
        w.WriteLine($"resources after:  {report.After}");
        foreach (var leak in report.Leaks)
            w.WriteLine($"LEAK: {leak}");
        w.WriteLine(report.Leaks.Count == 0
            ? $"fuzz: {report.Machines} machines, 0 host faults"
            : $"fuzz: {report.Machines} machines, {report.Leaks.Count} host faults (leaks); reproduce: kvmlab fuzz --machines {machines}");
        return report.Leaks.Count == 0 ? 0 : 1;
    }

    private static CpuMode[] ParseModes(string text) => text.ToLowerInvariant() switch
    {
        "all" => [CpuMode.Real, CpuMode.Protected, CpuMode.Long],
        "real" => [CpuMode.Real],
        "protected" => [CpuMode.Protected],
        "long" => [CpuMode.Long],
        _ => throw new UsageException($"--mode expects real, protected, long or all, got '{text}'"),
    };

    private static List<GuestImage> Templates(IReadOnlyCollection<CpuMode> modes)
    {
        var images = new List<GuestImage>();
        foreach (var guest in GuestLibrary.All)
            foreach (var mode in guest.Modes.Where(modes.Contains))
                images.Add(guest.Build(mode));
        return images;
    }
}
