using KvmLab.Kvm;

using KvmLab.Interrupts;

namespace KvmLab;

/// <summary>Delivers device interrupts to the in-kernel irqchip: INTx lines with KVM_IRQ_LINE, MSI with KVM_SIGNAL_MSI.</summary>
public sealed class VmInterruptSink : IInterruptSink
{
    private readonly Vm _vm;
    private readonly bool _irqchip;

    internal VmInterruptSink(Vm vm, bool irqchip)
    {
        _vm = vm;
        _irqchip = irqchip;
    }

    /// <summary>Line level changes sent to KVM.</summary>
    public long LineChanges { get; private set; }

    /// <summary>MSIs signalled.</summary>
    public long MsisSent { get; private set; }

    /// <summary>Interrupts dropped because the machine has no in-kernel irqchip to take them.</summary>
    public long Dropped { get; private set; }

    /// <inheritdoc />
    public void SetIrq(int line, bool level)
    {
        if (!_irqchip)
        {
            Dropped++;
            return;
        }
        _vm.SetIrqLine((uint)line, level);
        LineChanges++;
    }

    /// <summary>Called with every MSI a device sends, delivered or dropped: the machine records it in its trace.</summary>
    internal Action<ulong, uint, string, int>? MsiSent { get; set; }

    /// <inheritdoc />
    public void SendMsi(ulong address, uint data, string device, int vector)
    {
        MsiSent?.Invoke(address, data, device, vector);
        SendMsi(address, data);
    }

    /// <inheritdoc />
    public void SendMsi(ulong address, uint data)
    {
        if (!_irqchip)
        {
            Dropped++;
            return;
        }
        _vm.SignalMsi(address, data);
        MsisSent++;
    }
}
