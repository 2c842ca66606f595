using System.Diagnostics;

namespace KvmLab.Fuzzing;

/// <summary>
/// Runs generated guests (see <see cref="FuzzCaseGenerator"/>) on real KVM under exit and time limits and checks that
/// the host survives every one: each run must end in a <see cref="StopReason"/>, on time, with no exception escaping
/// and the machine still usable; after the session every machine's descriptors, mappings and threads must be gone.
/// Workers each reuse one <see cref="Machine"/> for <see cref="GuestFuzzOptions.RecycleEvery"/> runs.
/// </summary>
public static class GuestFuzzer
{
    /// <summary>Bytes of low RAM cleared before each run (loader area and every default load address), so leftovers
    /// of the previous guest do not change what the next one executes.</summary>
    public const int ClearedLowRam = 2 << 20;

    /// <summary>Runs a session. <paramref name="progress"/> is called (from worker threads) with the count of finished runs.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static GuestFuzzReport Run(GuestFuzzOptions options, FuzzCaseGenerator generator, Action<long>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Runs);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RecycleEvery, 1);

        var session = new Session(options, generator, progress, cancel);
        // One machine built and dropped first, so that what the runtime sets up once (the stop signal's handler page,
        // lazily loaded libraries) is part of the baseline and not mistaken for a leak.
        new Machine(options.Machine).Dispose();
        var before = ResourceSnapshot.Take();
        var started = Stopwatch.GetTimestamp();
        int workers = (int)Math.Max(1, Math.Min(options.Workers, options.Runs));
        var threads = Enumerable.Range(0, workers)
            .Select(w => new Thread(() => session.Work(w, workers)) { Name = $"KvmLab fuzz worker {w}", IsBackground = true })
            .ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var elapsed = Stopwatch.GetElapsedTime(started);
        var after = ResourceSnapshot.Take();
        foreach (var leak in before.LeaksIn(after))
            session.Fault(null, "leak", leak);
        return session.Report(elapsed, before, after);
    }

    private sealed class Session(GuestFuzzOptions options, FuzzCaseGenerator generator, Action<long>? progress, CancellationToken cancel)
    {
        private readonly object _lock = new();
        private readonly Dictionary<StopReason, long> _outcomes = new();
        private readonly Dictionary<FuzzCaseKind, long> _kinds = new();
        private readonly List<HostFault> _faults = new();
        private long _runs;
        private long _exits;
        private long _machines;
        private TimeSpan _longest;

        public void Work(int worker, int workers)
        {
            Machine? machine = null;
            int used = 0;
            try
            {
                for (long i = worker; i < options.Runs && !cancel.IsCancellationRequested; i += workers)
                {
                    var fuzzCase = generator.Create(options.Seed, options.FirstCase + i);
                    if (machine is null || used == options.RecycleEvery)
                    {
                        machine?.Dispose();
                        machine = null;
                        machine = new Machine(options.Machine);
                        Interlocked.Increment(ref _machines);
                        used = 0;
                    }
                    used++;
                    if (!RunOne(machine, fuzzCase))
                    {
                        machine.Dispose();
                        machine = null;
                    }
                }
            }
            catch (Exception e)
            {
                Fault(null, "machine could not be built", e.ToString());
            }
            finally
            {
                machine?.Dispose();
            }
        }

        /// <summary>Runs one case; false when the machine must not be reused.</summary>
        private bool RunOne(Machine machine, FuzzCase fuzzCase)
        {
            RunResult result;
            try
            {
                var low = (int)Math.Min((ulong)ClearedLowRam, machine.Ram.Size);
                machine.Ram.GetSpan(machine.Ram.GuestPhysicalAddress, low).Clear();
                machine.Load(fuzzCase.Image);
                result = machine.Run(new RunOptions { MaxExits = options.MaxExits, Timeout = options.Timeout, Cancellation = cancel });
            }
            catch (Exception e)
            {
                Fault(fuzzCase, "exception escaped the run loop", e.ToString());
                return false;
            }
            if (result.Reason == StopReason.Cancelled && cancel.IsCancellationRequested)
                return true;
            bool reusable = true;
            if (result.Elapsed > options.Timeout + options.DeadlineSlack)
                Fault(fuzzCase, "deadline missed", $"the run took {result.Elapsed.TotalMilliseconds:F0} ms with a {options.Timeout.TotalMilliseconds:F0} ms timeout: {result}");
            if (machine.Vcpu.IsReadPending)
            {
                Fault(fuzzCase, "read left pending", $"the run ended with an uncompleted guest read: {result}");
                reusable = false;
            }
            lock (_lock)
            {
                _runs++;
                _exits += result.Exits;
                _outcomes[result.Reason] = _outcomes.GetValueOrDefault(result.Reason) + 1;
                _kinds[fuzzCase.Kind] = _kinds.GetValueOrDefault(fuzzCase.Kind) + 1;
                if (result.Elapsed > _longest) _longest = result.Elapsed;
            }
            progress?.Invoke(Interlocked.Read(ref _runs));
            return reusable;
        }

        public void Fault(FuzzCase? fuzzCase, string what, string detail)
        {
            lock (_lock)
                _faults.Add(new HostFault(fuzzCase, what, detail));
        }

        public GuestFuzzReport Report(TimeSpan elapsed, ResourceSnapshot before, ResourceSnapshot after)
        {
            lock (_lock)
            {
                var faults = _faults.OrderBy(f => f.Case?.Index ?? long.MaxValue).ToList();
                return new GuestFuzzReport(options, _runs, new Dictionary<StopReason, long>(_outcomes), new Dictionary<FuzzCaseKind, long>(_kinds),
                    faults, _exits, _machines, _longest, elapsed, before, after);
            }
        }
    }
}
