using System.Diagnostics;
using KvmLab.Kvm;

namespace KvmLab;

// The run loop's dispatch without KVM: a machine whose vCPU is detached (its kvm_run is plain memory, see
// Vcpu.Detached) takes exits that code prepared in kvm_run through the same Dispatch a real KVM_RUN return goes
// through. `kvmlab bench --dispatch-only` times it and counts its allocations; tests use it where /dev/kvm is absent.
public sealed partial class Machine
{
    /// <summary>
    /// A machine with the board, devices and trace of <paramref name="options"/> but no VM: no /dev/kvm is opened,
    /// RAM is a plain mapping, and exits come from <see cref="Vcpu"/>'s Prepare* methods and
    /// <see cref="DispatchPreparedExit"/>. Without a VM there is no in-kernel irqchip: device interrupts are counted
    /// as dropped (<see cref="VmInterruptSink.Dropped"/>).
    /// </summary>
    internal static Machine CreateDetached(MachineOptions? options = null, bool coalescedReplay = false)
    {
        var detached = (options ?? new MachineOptions()) with { InKernelIrqchip = false, UseIoEventFd = false };
        var vcpu = Vcpu.Detached();
        try
        {
            return new Machine(detached, vcpu) { _coalesced = coalescedReplay };
        }
        catch
        {
            vcpu.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes the exit prepared in the detached vCPU's kvm_run and dispatches it as <see cref="Step"/> would once
    /// KVM_RUN returned: coalesced writes replayed, the access handed to its address space and device, a read
    /// completed into kvm_run, the exit recorded. Returns why a run would stop there, or null.
    /// </summary>
    internal StopReason? DispatchPreparedExit()
    {
        var ctx = new RunContext(long.MaxValue, default, null, HaltChecks: false);
        var exit = Vcpu.DecodePrepared();
        // No KVM_RUN ran: the exit took no guest time, and the clock is read where the run loop reads it after one.
        var exited = Stopwatch.GetTimestamp();
        return Dispatch(in exit, ref ctx, exited, exited);
    }
}
