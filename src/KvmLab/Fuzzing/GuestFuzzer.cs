using System.Diagnostics;
using KvmLab.Kvm;

namespace KvmLab.Fuzzing;

/// <summary>
/// Runs generated guests (see <see cref="FuzzCaseGenerator"/>) on real KVM under exit and time limits and checks that
/// the host survives every one: each run must end in a <see cref="StopReason"/> the case could have produced
/// (<see cref="OutcomeCheck"/>), on time, with no exception escaping and the machine still usable; after the session
/// every machine's descriptors, mappings and threads must be gone. Workers each reuse one <see cref="Machine"/> for
/// <see cref="GuestFuzzOptions.RecycleEvery"/> runs; a fault names the cases that ran on its machine before it, and
/// <see cref="Replay"/> runs them again in that order. A watchdog thread reports a run that has not come back from
/// the run loop by its deadline plus <see cref="GuestFuzzOptions.DeadlineSlack"/>, cancels it, and when even that
/// does not bring it back, abandons the worker and lets a new one go on with the next cases.
/// </summary>
internal static class GuestFuzzer
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
        int workers = (int)Math.Max(1, Math.Min(options.Workers, options.Runs));
        var schedules = Enumerable.Range(0, workers).Select(w => Stride(options.FirstCase, options.Runs, w, workers)).ToList();
        return new Session(options, generator, progress, cancel, options.RecycleEvery).Run(schedules);
    }

    /// <summary>
    /// Runs <paramref name="cases"/> of the session <paramref name="options"/> describes, in order, on one fresh machine:
    /// a fault's <see cref="HostFault.Preceding"/> followed by its case puts the machine in the state the fault happened in.
    /// </summary>
    /// <exception cref="ArgumentException">No case given.</exception>
    public static GuestFuzzReport Replay(GuestFuzzOptions options, FuzzCaseGenerator generator, IReadOnlyList<long> cases, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(cases);
        if (cases.Count == 0)
            throw new ArgumentException("Give at least one case to replay.", nameof(cases));
        var replayed = options with { Runs = cases.Count, Workers = 1, RecycleEvery = int.MaxValue };
        return new Session(replayed, generator, null, cancel, int.MaxValue).Run([cases.ToArray()]);
    }

    private static IEnumerable<long> Stride(long first, long runs, int worker, int workers)
    {
        for (long i = worker; i < runs; i += workers)
            yield return first + i;
    }

    /// <summary>One worker thread's state; the watchdog reads it under <see cref="Gate"/>.</summary>
    private sealed class Worker(int id, IEnumerator<long> cases)
    {
        public readonly object Gate = new();
        public readonly int Id = id;
        public readonly IEnumerator<long> Cases = cases;
        public Thread Thread = null!;
        public long RunStarted;
        public FuzzCase? Current;
        public IReadOnlyList<long> Preceding = [];
        public CancellationTokenSource? RunCancel;
        public bool DeadlineReported;
        public bool Abandoned;
    }

    private sealed class Session(GuestFuzzOptions options, FuzzCaseGenerator generator, Action<long>? progress, CancellationToken cancel, int recycleEvery)
    {
        private readonly object _lock = new();
        private readonly Dictionary<StopReason, long> _outcomes = new();
        private readonly Dictionary<FuzzCaseKind, long> _kinds = new();
        private readonly List<HostFault> _faults = new();
        private readonly List<Worker> _workers = new();
        private readonly Func<Machine, FuzzCase, RunOptions, RunResult> _runner = options.Runner ?? ((machine, _, run) => machine.Run(run));
        private long _runs;
        private long _exits;
        private long _machines;
        private TimeSpan _longest;
        private volatile bool _finished;

        public GuestFuzzReport Run(IReadOnlyList<IEnumerable<long>> schedules)
        {
            // One machine built and dropped first, so that what the runtime sets up once (the stop signal's handler page,
            // lazily loaded libraries) is part of the baseline and not mistaken for a leak.
            new Machine(options.Machine).Dispose();
            var before = ResourceSnapshot.Take();
            var started = Stopwatch.GetTimestamp();
            var watchdog = new Thread(Watch) { Name = "KvmLab fuzz watchdog", IsBackground = true };
            lock (_lock)
                for (int w = 0; w < schedules.Count; w++)
                    Start(new Worker(w, schedules[w].GetEnumerator()));
            watchdog.Start();
            WaitForWorkers();
            _finished = true;
            watchdog.Join();
            var elapsed = Stopwatch.GetElapsedTime(started);
            var after = ResourceSnapshot.Take();
            foreach (var leak in before.LeaksIn(after))
                Fault(null, [], "leak", leak);
            return Report(elapsed, before, after);
        }

        private void Start(Worker worker)
        {
            worker.Thread = new Thread(() => Work(worker)) { Name = $"KvmLab fuzz worker {worker.Id}", IsBackground = true };
            _workers.Add(worker);
            worker.Thread.Start();
        }

        private void WaitForWorkers()
        {
            while (true)
            {
                Worker? running;
                lock (_lock)
                    running = _workers.FirstOrDefault(w => !w.Abandoned && w.Thread.IsAlive);
                if (running is null) return;
                running.Thread.Join(50);
            }
        }

        private TimeSpan WatchInterval => TimeSpan.FromMilliseconds(Math.Clamp(options.Timeout.TotalMilliseconds / 4, 5, 250));

        /// <summary>The watchdog: a run past its deadline and grace is reported and cancelled; one that ignores the
        /// cancellation for another grace period has its worker abandoned and replaced.</summary>
        private void Watch()
        {
            long grace = (long)((options.Timeout + options.DeadlineSlack).TotalSeconds * Stopwatch.Frequency);
            long slack = (long)(options.DeadlineSlack.TotalSeconds * Stopwatch.Frequency);
            while (!_finished)
            {
                Thread.Sleep(WatchInterval);
                Worker[] workers;
                lock (_lock)
                    workers = _workers.ToArray();
                foreach (var worker in workers)
                {
                    lock (worker.Gate)
                    {
                        if (worker.RunStarted == 0 || worker.Abandoned) continue;
                        long inside = Stopwatch.GetTimestamp() - worker.RunStarted;
                        var ms = inside * 1000.0 / Stopwatch.Frequency;
                        if (!worker.DeadlineReported && inside > grace)
                        {
                            worker.DeadlineReported = true;
                            Fault(worker.Current, worker.Preceding, "KVM_RUN did not return",
                                $"the run was still in the run loop {ms:F0} ms after it started, with a {options.Timeout.TotalMilliseconds:F0} ms " +
                                $"timeout and {options.DeadlineSlack.TotalMilliseconds:F0} ms of grace; the watchdog cancelled it (immediate_exit and a signal to its thread)");
                            worker.RunCancel?.Cancel();
                        }
                        else if (worker.DeadlineReported && inside > grace + slack)
                        {
                            worker.Abandoned = true;
                            Fault(worker.Current, worker.Preceding, "worker abandoned",
                                $"the run did not come back {options.DeadlineSlack.TotalMilliseconds:F0} ms after the watchdog cancelled it ({ms:F0} ms in all); " +
                                "its machine stays open and a new worker goes on with the next cases");
                            lock (_lock)
                                Start(new Worker(worker.Id, worker.Cases));
                        }
                    }
                }
            }
        }

        private void Work(Worker worker)
        {
            Machine? machine = null;
            var history = new List<long>();
            try
            {
                while (!cancel.IsCancellationRequested)
                {
                    long index;
                    lock (worker.Gate)
                    {
                        if (worker.Abandoned || !worker.Cases.MoveNext()) break;
                        index = worker.Cases.Current;
                    }
                    var fuzzCase = generator.Create(options.Seed, index);
                    if (machine is null || history.Count >= recycleEvery)
                    {
                        machine?.Dispose();
                        machine = null;
                        history.Clear();
                        machine = new Machine(options.Machine);
                        Interlocked.Increment(ref _machines);
                    }
                    var outcome = RunOne(worker, machine, fuzzCase, history);
                    if (outcome == Outcome.Abandoned) break;
                    history.Add(index);
                    if (outcome == Outcome.Discard)
                    {
                        machine.Dispose();
                        machine = null;
                    }
                }
            }
            catch (Exception e)
            {
                Fault(null, [], "machine could not be built", e.ToString());
            }
            finally
            {
                machine?.Dispose();
            }
        }

        private enum Outcome { Reuse, Discard, Abandoned }

        private Outcome RunOne(Worker worker, Machine machine, FuzzCase fuzzCase, List<long> history)
        {
            var preceding = history.ToArray();
            try
            {
                var low = (int)Math.Min((ulong)ClearedLowRam, machine.Ram.Size);
                machine.Ram.GetSpan(machine.Ram.GuestPhysicalAddress, low).Clear();
                machine.Load(fuzzCase.Image);
            }
            catch (Exception e)
            {
                Fault(fuzzCase, preceding, "exception escaped loading", e.ToString());
                return Outcome.Discard;
            }

            using var runCancel = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            lock (worker.Gate)
            {
                worker.Current = fuzzCase;
                worker.Preceding = preceding;
                worker.RunCancel = runCancel;
                worker.DeadlineReported = false;
                worker.RunStarted = Stopwatch.GetTimestamp();
            }
            RunResult? result = null;
            Exception? escaped = null;
            try
            {
                result = _runner(machine, fuzzCase, new RunOptions { MaxExits = options.MaxExits, Timeout = options.Timeout, Cancellation = runCancel.Token });
            }
            catch (Exception e)
            {
                escaped = e;
            }
            bool watchdogReported;
            lock (worker.Gate)
            {
                worker.RunStarted = 0;
                worker.RunCancel = null;
                if (worker.Abandoned) return Outcome.Abandoned;
                watchdogReported = worker.DeadlineReported;
            }
            if (escaped is not null || result is null)
            {
                Fault(fuzzCase, preceding, "exception escaped the run loop", escaped?.ToString() ?? "no result");
                return Outcome.Discard;
            }
            if (result.Reason == StopReason.Cancelled && cancel.IsCancellationRequested)
                return Outcome.Reuse;

            var reuse = Outcome.Reuse;
            if (watchdogReported)
                reuse = Outcome.Discard;
            else if (result.Elapsed > options.Timeout + options.DeadlineSlack)
                Fault(fuzzCase, preceding, "deadline missed", $"the run took {result.Elapsed.TotalMilliseconds:F0} ms with a {options.Timeout.TotalMilliseconds:F0} ms timeout: {result}");
            if (Contradiction(machine, result, runCancel.IsCancellationRequested) is { } contradiction)
            {
                Fault(fuzzCase, preceding, "outcome the case cannot produce", $"{contradiction}: {result}");
                reuse = Outcome.Discard;
            }
            if (machine.Vcpu.IsReadPending)
            {
                Fault(fuzzCase, preceding, "read left pending", $"the run ended with an uncompleted guest read: {result}");
                reuse = Outcome.Discard;
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
            return reuse;
        }

        private string? Contradiction(Machine machine, RunResult result, bool cancelled)
        {
            try
            {
                SpecialRegisters? sregs = result.Reason == StopReason.Halted ? machine.Vcpu.GetSpecialRegisters() : null;
                return OutcomeCheck.Contradiction(result, options, cancelled,
                    linear => sregs is { } s ? OutcomeCheck.ReadFetchByte(machine.Ram, s, linear) : null);
            }
            catch (Exception e)
            {
                return $"the machine could not be read after the run ({e.Message})";
            }
        }

        public void Fault(FuzzCase? fuzzCase, IReadOnlyList<long> preceding, string what, string detail)
        {
            lock (_lock)
                _faults.Add(new HostFault(fuzzCase, what, detail, preceding));
        }

        private GuestFuzzReport Report(TimeSpan elapsed, ResourceSnapshot before, ResourceSnapshot after)
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
