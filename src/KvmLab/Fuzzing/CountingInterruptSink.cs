using KvmLab.Interrupts;

namespace KvmLab.Fuzzing;

/// <summary>An interrupt controller stand-in that counts what devices send.</summary>
internal sealed class CountingInterruptSink : IInterruptSink
{
    /// <summary>INTx level changes.</summary>
    public long LineChanges { get; private set; }

    /// <summary>MSI messages.</summary>
    public long Messages { get; private set; }

    /// <inheritdoc />
    public void SetIrq(int line, bool level) => LineChanges++;

    /// <inheritdoc />
    public void SendMsi(ulong address, uint data) => Messages++;
}
