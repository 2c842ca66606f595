// Regenerates the figures the notebooks show, from fresh runs on this host's KVM, into the folder given as the
// first argument (default: figures/ next to this script). Run: kvmlab script notebooks/scripts/figures.csx out/
var outDir = Args.Count > 0 ? Args[0] : Path.Combine(ScriptDirectory, "figures");
Directory.CreateDirectory(outDir);

ExitTrace RunGuest(string name, CpuMode? mode = null)
{
    using var machine = Machine.Boot(GuestLibrary.Get(name).Build(mode));
    var result = machine.Run();
    if (result.Reason != StopReason.IsaDebugExit || result.ExitStatus != 33)
        throw new InvalidOperationException($"{name} did not finish cleanly: {result}");
    Print($"{name}: {result}");
    return machine.Trace;
}

void Save(TraceChart chart, string file)
{
    foreach (var ext in new[] { ".html", ".svg" })
    {
        var path = Path.Combine(outDir, file + ext);
        chart.Save(path);
        Print($"  wrote {path}");
    }
}

// Lesson 1: what a guest's exits are made of.
Save(TraceCharts.ExitReasons(RunGuest("hello")), "hello-exit-reasons");

// Lesson 2: a PCI bus scan seen as configuration-space accesses per function and offset.
var scan = RunGuest("pci-scan");
Save(TraceCharts.PciConfigMap(scan), "pci-scan-config-map");
Save(TraceCharts.Timeline(scan), "pci-scan-timeline");

// Lesson 3: the edu registers a driver touches.
var edu = RunGuest("edu");
Save(TraceCharts.AccessesPerRegister(edu, "edu"), "edu-registers");
Save(TraceCharts.HandlerLatency(edu), "edu-handler-latency");

// Lesson 4: PIO and MMIO exits cost the same round trip to user space.
var pioMmio = RunGuest("pio-vs-mmio");
Save(TraceCharts.AccessesPerDevice(pioMmio), "pio-vs-mmio-devices");
foreach (var row in TraceStatistics.Compute(pioMmio, StatGrouping.Access))
    Print($"  {row.Key,-12} {row.Count,6} accesses, round trip {row.AvgRoundTripNanos / 1000:F2} µs on average");
