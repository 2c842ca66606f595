using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.Debugger;

public class SteppingTests
{
    [KvmTheory]
    [InlineData(CpuMode.Real)]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Single_stepping_hello_executes_its_first_20_instructions_in_the_order_a_static_listing_predicts(CpuMode mode)
    {
        var image = HelloGuest.Build(mode);
        using var machine = Machine.Boot(image);
        Assert.True(machine.Debugger.SupportsGuestDebug);
        var segmentBase = mode == CpuMode.Real ? image.LoadAddress & ~0xFUL : 0;
        var origin = image.LoadAddress - segmentBase;
        var listing = TrapDisassembler.Disassemble(image.Bytes, origin, mode, image.Bytes.Length).ToDictionary(i => i.Ip);

        var steps = machine.Debugger.StepInstructions(20);

        Assert.Equal(20, steps.Count);
        Assert.Equal(origin, steps[0].Ip);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            Assert.True(step.Completed, step.ToString());
            Assert.Equal(mode, step.Mode);
            Assert.Equal(segmentBase + step.Ip, step.LinearAddress);
            Assert.True(listing.TryGetValue(step.Ip, out var expected), $"step {i} at 0x{step.Ip:x} is not an instruction boundary of the listing");
            Assert.Equal(expected.Text, step.Disassemble().Text);
            if (i + 1 < steps.Count)
                Assert.Equal(step.NextIp, steps[i + 1].Ip);
        }
        // Within 20 instructions the UART driver polls LSR: the step that did it carries the access.
        var io = steps.Where(s => s.Accesses.Count > 0).ToList();
        Assert.Contains(io, s => s.Disassemble().Text == "in al,dx" && s.Accesses.Single().Target == "serial.LSR");
        Assert.All(io, s => Assert.Equal(s.Accesses.Single().Record.Access.IsRead() ? "in al,dx" : "out dx,al", s.Disassemble().Text));
    }

    [KvmFact]
    public void Stepping_the_modes_guest_reports_each_instruction_in_the_mode_it_ran_in()
    {
        using var machine = Machine.Boot(ModesGuest.Build(CpuMode.Real));

        // Hardware KVM traps after every iteration of a REP string instruction (the page-table clearing REP STOSD
        // alone is thousands of steps on SVM); kvm_pvm traps once per instruction. The cap leaves room for both.
        var steps = machine.Debugger.StepInstructions(100_000);

        Assert.Equal(StopReason.IsaDebugExit, steps[^1].Stop);
        Assert.Equal("out dx,al", steps[^1].Disassemble().Text);
        Assert.Equal([CpuMode.Real, CpuMode.Protected, CpuMode.Long], steps.Select(s => s.Mode).Distinct());
        Assert.All(steps, s => Assert.NotEqual("(bad)", s.Disassemble().Text));
        Assert.EndsWith(ModesGuest.FinalLine + "\n", machine.SerialOutput);
    }

    [KvmFact]
    public void Stepping_then_running_finishes_the_guest_normally()
    {
        using var machine = Machine.Boot(HelloGuest.Build(CpuMode.Protected));

        machine.Debugger.StepInstructions(50);
        var result = machine.Run();

        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        Assert.EndsWith(HelloGuest.FinalLine + "\n", machine.SerialOutput);
    }

    [KvmTheory]
    [InlineData(CpuMode.Real)]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void A_step_over_a_port_or_mmio_write_executes_exactly_that_instruction(CpuMode mode)
    {
        // out; then a marker instruction the next step must start at; then an MMIO store; then debug-exit.
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        g.PortWrite(PcLayout.Com1Port, 1, 'A');
        a.nop();
        if (mode != CpuMode.Real) g.MmioWrite(0xD000_0000, 4, 0x1234);
        a.nop();
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        var image = g.Build("step-over-writes");
        using var machine = Machine.Boot(image);
        var segmentBase = mode == CpuMode.Real ? image.LoadAddress & ~0xFUL : 0;
        var listing = TrapDisassembler.Disassemble(image.Bytes, image.LoadAddress - segmentBase, mode, image.Bytes.Length).ToList();

        var steps = machine.Debugger.StepInstructions(listing.Count + 2);

        Assert.Equal(StopReason.IsaDebugExit, steps[^1].Stop);
        // Each step ran exactly the listing's next instruction: no write exit swallowed the instruction after it.
        Assert.Equal(listing.Take(steps.Count).Select(i => i.Ip), steps.Select(s => s.Ip));
        for (var i = 0; i + 1 < steps.Count; i++)
            Assert.Equal(steps[i + 1].Ip, steps[i].NextIp);
        Assert.Equal("A", machine.SerialOutput);
    }
}
