namespace KvmLab.Tests.Reliability;

/// <summary>
/// Tests that read process-wide state (/proc/self descriptors, mappings, threads, sockets) or measure stop latency:
/// they run alone, after the parallel tests, so other tests' machines and CPU load do not show up in their numbers.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "process-wide";
}
