using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class NotebookStyleGuestTests
{
    [KvmTheory]
    [InlineData(CpuMode.Real)]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void A_guest_written_in_a_few_assembler_lines_prints_writes_edu_and_exits_in_each_mode(CpuMode mode)
    {
        // What a notebook cell does: print, program edu's BAR over conf1, one MMIO write, debug-exit.
        var g = new GuestAssembler(mode);
        g.PrintLine("hi from a cell");
        g.ConfigWrite(PciAccessMethod.Conf1, 0, PcLayout.EduSlot, 0, 0x10, 4, (uint)PcLayout.PciMmioWindowBase);
        g.ConfigWrite(PciAccessMethod.Conf1, 0, PcLayout.EduSlot, 0, 0x04, 2, 0x2);
        if (mode != CpuMode.Real)
            g.MmioWrite(PcLayout.PciMmioWindowBase + EduRegisters.Liveness, 4, 0xCAFE);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);
        using var machine = Machine.Boot(g.Build("cell"));

        var result = machine.Run(TestScale.Bound(TimeSpan.FromSeconds(10)));

        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        Assert.Equal(GuestRun.SuccessStatus, result.ExitStatus);
        Assert.Equal("hi from a cell\n", machine.SerialOutput);
        var mmio = Enumerable.Range(0, machine.Trace.Count).Select(machine.Trace.Resolve).Where(r => r.Record.Access.IsMmio()).ToList();
        if (mode == CpuMode.Real)
        {
            // Real mode cannot reach 0xE0000000, so the helper refuses to emit the write rather than truncate it.
            Assert.Empty(mmio);
            Assert.Throws<InvalidOperationException>(() => new GuestAssembler(mode).MmioWrite(PcLayout.PciMmioWindowBase, 4, 0));
            return;
        }
        var write = Assert.Single(mmio);
        Assert.Equal("edu.liveness", write.Target);
        Assert.Equal(0xCAFEUL, write.Record.Value);
        machine.Memory.Read(PcLayout.PciMmioWindowBase + EduRegisters.Liveness, 4, out var liveness);
        Assert.Equal((ulong)~0xCAFEu, liveness);
    }
}
