namespace KvmLab.Testing;

/// <summary>
/// Tests that count process-wide things (open descriptors, mappings, RSS) or bound wall-clock latency run in this
/// collection: alone, after the parallel tests, so that other tests' machines neither show up in their counts nor
/// steal their CPU.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "process-wide resources and latency bounds";
}
