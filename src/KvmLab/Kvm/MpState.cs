namespace KvmLab.Kvm;

/// <summary>kvm_mp_state.mp_state (KVM_MP_STATE_* in &lt;linux/kvm.h&gt;).</summary>
internal enum MpState : uint
{
    /// <summary>KVM_MP_STATE_RUNNABLE.</summary>
    Runnable = 0,
    /// <summary>KVM_MP_STATE_UNINITIALIZED: an application processor waiting for INIT.</summary>
    Uninitialized = 1,
    /// <summary>KVM_MP_STATE_INIT_RECEIVED.</summary>
    InitReceived = 2,
    /// <summary>KVM_MP_STATE_HALTED: executed HLT and waits for an interrupt.</summary>
    Halted = 3,
    /// <summary>KVM_MP_STATE_SIPI_RECEIVED.</summary>
    SipiReceived = 4,
}
