using KvmLab.Kvm;
using KvmLab.Testing;

namespace KvmLab.Tests.Kvm;

public sealed class KvmBehaviourTests
{
    [KvmFact]
    public void The_probe_measures_the_exit_rip_rules_this_backend_is_documented_to_have()
    {
        var probed = KvmBehaviour.Probe();

        Assert.Equal(KvmBackends.Current, probed.Backend);
        Assert.Equal(BackendRules.Out, probed.OutRip);
        Assert.Equal(BackendRules.In, probed.InRip);
        Assert.Equal(BackendRules.MmioWrite, probed.MmioWriteRip);
        Assert.Equal(BackendRules.MmioRead, probed.MmioReadRip);
    }

    [KvmFact]
    public void A_single_step_trap_owed_by_an_mmio_write_is_not_delivered_before_the_next_instruction()
    {
        // x86_emulate_instruction completes the write and drops the trap ("FIXME: return into emulator if
        // single-stepping"): the next DEBUG exit comes after one more instruction, on every backend measured.
        Assert.Equal(StepTrap.Lost, KvmBehaviour.Probe().StepOverMmioWrite);
    }

    [KvmFact]
    public void The_probe_describes_every_fact_in_words_a_reader_can_check()
    {
        var lines = KvmBehaviour.Current.Describe().ToList();

        Assert.Contains(lines, l => l.StartsWith("RIP at an OUT exit: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("int3 software breakpoints", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("hardware data watchpoints", StringComparison.Ordinal));
    }

    [Fact]
    public void The_backend_is_the_one_vendor_module_loaded_and_unknown_otherwise()
    {
        Assert.Equal(KvmBackend.Svm, KvmBackends.Detect(["kvm_amd"]));
        Assert.Equal(KvmBackend.Vmx, KvmBackends.Detect(["kvm_intel"]));
        Assert.Equal(KvmBackend.Pvm, KvmBackends.Detect(["kvm_pvm"]));
        Assert.Equal(KvmBackend.Unknown, KvmBackends.Detect([]));
        Assert.Equal(KvmBackend.Unknown, KvmBackends.Detect(["kvm_amd", "kvm_pvm"]));
        Assert.Equal("kvm_amd", KvmBackend.Svm.ModuleName());
    }

    [Fact]
    public void Hardware_breakpoints_are_validated_against_what_dr7_can_express()
    {
        Assert.Throws<ArgumentException>(() => new HardwareBreakpoint(0x1000, BreakpointKind.Write, 3).Validate());
        Assert.Throws<ArgumentException>(() => new HardwareBreakpoint(0x1002, BreakpointKind.Write, 4).Validate());
        Assert.Throws<ArgumentException>(() => new HardwareBreakpoint(0x1000, BreakpointKind.Execute, 2).Validate());
        new HardwareBreakpoint(0x1008, BreakpointKind.ReadWrite, 8).Validate();
    }
}
