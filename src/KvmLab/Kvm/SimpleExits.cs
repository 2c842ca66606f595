namespace KvmLab.Kvm;

/// <summary>The guest executed HLT with no in-kernel irqchip to wait on (KVM_EXIT_HLT).</summary>
public readonly record struct HltExit
{
    /// <inheritdoc/>
    public override string ToString() => "HLT";
}

/// <summary>The vCPU shut down (KVM_EXIT_SHUTDOWN); on x86 this is a triple fault.</summary>
public readonly record struct ShutdownExit
{
    /// <inheritdoc/>
    public override string ToString() => "SHUTDOWN (triple fault)";
}

/// <summary>KVM_RUN was interrupted (KVM_EXIT_INTR): a stop request (<see cref="Vcpu.RequestStop"/>) or another signal.</summary>
public readonly record struct IntrExit
{
    /// <inheritdoc/>
    public override string ToString() => "INTR (run interrupted / stop requested)";
}

/// <summary>The guest can accept an interrupt now (KVM_EXIT_IRQ_WINDOW_OPEN).</summary>
public readonly record struct IrqWindowOpenExit
{
    /// <inheritdoc/>
    public override string ToString() => "IRQ_WINDOW_OPEN";
}

/// <summary>The guest wrote CR8/TPR (KVM_EXIT_SET_TPR).</summary>
public readonly record struct SetTprExit
{
    /// <inheritdoc/>
    public override string ToString() => "SET_TPR";
}
