namespace KvmLab.Interrupts;

/// <summary>
/// Where devices send interrupts. The machine wires it to KVM (KVM_IRQ_LINE for lines, KVM_SIGNAL_MSI for message
/// signalled interrupts); tests use a fake that records calls.
/// </summary>
public interface IInterruptSink
{
    /// <summary>Drives interrupt <paramref name="line"/> (a GSI of the in-kernel irqchip) to <paramref name="level"/>.</summary>
    void SetIrq(int line, bool level);

    /// <summary>Delivers a message signalled interrupt: the 32-bit <paramref name="data"/> written to <paramref name="address"/>.</summary>
    void SendMsi(ulong address, uint data);

    /// <summary>
    /// Delivers MSI or MSI-X <paramref name="vector"/> of <paramref name="device"/>: the 32-bit <paramref name="data"/>
    /// written to <paramref name="address"/>. A sink that records interrupts per device (the machine's trace) overrides
    /// it; the rest deliver the message alone.
    /// </summary>
    void SendMsi(ulong address, uint data, string device, int vector) => SendMsi(address, data);
}
