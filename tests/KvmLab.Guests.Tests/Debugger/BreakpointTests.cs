using Iced.Intel;
using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Testing;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests.Tests.Debugger;

public class BreakpointTests
{
    private static bool BreakpointsFire => KvmBehaviour.Current.SoftwareBreakpoints || KvmBehaviour.Current.HardwareBreakpoints;

    /// <summary>Where this KVM fires no breakpoint (measured), arming one is refused naming the measurement: true then.</summary>
    private static bool RefusedHere(Machine machine, ulong address)
    {
        if (BreakpointsFire) return false;
        var e = Assert.Throws<NotSupportedException>(() => machine.Debugger.AddBreakpoint(address));
        Assert.Contains("measured", e.Message);
        return true;
    }

    /// <summary>The top of the loop: the first load of the FACTORIAL register's address (the write of n; the read of
    /// n! loads it again later).</summary>
    private static ulong FactorialWriteAddress(GuestImage image)
    {
        var listing = TrapDisassembler.Disassemble(image.Bytes, image.LoadAddress, image.Mode, image.Bytes.Length);
        var target = $"mov edi,0x{EduRegisters.Bar0 + EduRegisters.Factorial:X}";
        return listing.First(i => i.Text == target).Ip;
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void A_breakpoint_in_edus_factorial_loop_is_hit_twelve_times_then_the_guest_finishes(CpuMode mode)
    {
        var image = EduGuest.Build(mode);
        var loop = FactorialWriteAddress(image);
        using var machine = Machine.Boot(image);
        if (RefusedHere(machine, loop)) return;
        machine.Debugger.AddBreakpoint(loop);

        var hits = new List<(ulong Rip, ulong N)>();
        RunResult result;
        while ((result = machine.Run()).Reason == StopReason.Debug)
        {
            Assert.Equal(loop, machine.Debugger.LastBreakpoint);
            Assert.Equal($"breakpoint at 0x{loop:x}", result.Detail);
            var regs = machine.Vcpu.GetRegisters();
            hits.Add((regs.Rip, regs.Rbx));
            Assert.True(hits.Count <= 12, "the breakpoint fired again without the loop going round");
        }

        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        Assert.Equal(Enumerable.Range(1, 12).Select(n => (loop, (ulong)n)), hits);
        Assert.Contains("edu: 12! = 479001600\n", machine.SerialOutput);
        Assert.Null(machine.Debugger.LastBreakpoint);
    }

    [KvmFact]
    public void A_breakpoint_in_real_mode_takes_the_linear_address_and_stops_before_the_instruction()
    {
        var g = new GuestAssembler(CpuMode.Real);
        var target = g.CreateLabel();
        g.Asm.mov(ebx, 7);
        g.Asm.Label(ref target);
        g.Asm.mov(ebx, 8);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        var image = g.Build("bp");
        var listing = TrapDisassembler.Disassemble(image.Bytes, image.LoadAddress & 0xF, CpuMode.Real, 20);
        var ip = listing.First(i => i.Text == "mov ebx,8").Ip;
        using var machine = Machine.Boot(image);
        if (RefusedHere(machine, (image.LoadAddress & ~0xFUL) + ip)) return;
        machine.Debugger.AddBreakpoint((image.LoadAddress & ~0xFUL) + ip);

        var stop = machine.Run();
        var atBreakpoint = machine.Vcpu.GetRegisters();
        var end = machine.Run();

        Assert.Equal(StopReason.Debug, stop.Reason);
        Assert.Equal(ip, atBreakpoint.Rip);
        Assert.Equal(7UL, atBreakpoint.Rbx);
        Assert.Equal(StopReason.IsaDebugExit, end.Reason);
        Assert.Equal(8UL, machine.Vcpu.GetRegisters().Rbx);
    }

    [KvmFact]
    public void Removing_a_breakpoint_lets_the_run_go_through_and_a_fifth_hardware_one_is_refused()
    {
        var image = EduGuest.Build(CpuMode.Protected);
        using var machine = Machine.Boot(image);
        var loop = FactorialWriteAddress(image);
        if (RefusedHere(machine, loop)) return;
        machine.Debugger.AddBreakpoint(loop);
        Assert.Equal(StopReason.Debug, machine.Run().Reason);

        Assert.True(machine.Debugger.RemoveBreakpoint(loop));
        Assert.False(machine.Debugger.RemoveBreakpoint(loop));
        foreach (var a in new ulong[] { 0x1, 0x2, 0x3, 0x4 })
            machine.Debugger.AddBreakpoint(a);
        // Four debug address registers limit hardware breakpoints; INT3 bytes have no such limit.
        if (machine.Debugger.UsesSoftwareBreakpoints) machine.Debugger.AddBreakpoint(0x5);
        else Assert.Throws<InvalidOperationException>(() => machine.Debugger.AddBreakpoint(0x5));
        machine.Debugger.ClearBreakpoints();

        Assert.Equal(StopReason.IsaDebugExit, machine.Run().Reason);
        Assert.Empty(machine.Debugger.Breakpoints);
    }
}

public class WatchpointTests
{
    [KvmFact]
    public void A_write_watchpoint_stops_after_the_store_where_this_kvm_fires_them_and_is_refused_naming_the_measurement_elsewhere()
    {
        // mov dword [0x200000], 0x2a ; then debug-exit: the watchpoint must stop the run right after the store.
        var g = new GuestAssembler(CpuMode.Protected);
        g.Asm.mov(__dword_ptr[0x200000], 0x2a);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        using var machine = Machine.Boot(g.Build("watch"));

        if (!machine.Debugger.Behaviour.DataWatchpoints)
        {
            var e = Assert.Throws<NotSupportedException>(() => machine.Debugger.AddWatchpoint(0x200000, 4));
            Assert.Contains("measured", e.Message);
            Assert.Equal(StopReason.IsaDebugExit, machine.Run().Reason);
            return;
        }
        machine.Debugger.AddWatchpoint(0x200000, 4);
        var stop = machine.Run();
        Assert.Equal(StopReason.Debug, stop.Reason);
        Assert.Equal(new HardwareBreakpoint(0x200000, BreakpointKind.Write, 4), machine.Debugger.LastWatchpoint);
        Assert.Equal(0x2aU, machine.Ram.Read<uint>(0x200000));
        Assert.Equal(StopReason.IsaDebugExit, machine.Run().Reason);
    }
}
