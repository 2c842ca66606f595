using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class TraceDisassemblyTests
{
    private static int RegisterSize(string register) => register switch
    {
        "al" => 1,
        "ax" => 2,
        "eax" => 4,
        "rax" => 8,
        _ => throw new Xunit.Sdk.XunitException($"unexpected data register {register}"),
    };

    // "in al,dx" / "out dx,eax" / "mov eax,[rdi]" / "mov [edi],eax": the data register's width is the access size.
    private static (string Mnemonic, int Size) Parse(string text)
    {
        var space = text.IndexOf(' ');
        var mnemonic = text[..space];
        var operands = text[(space + 1)..].Split(',');
        var data = mnemonic switch
        {
            "in" => operands[0],
            "out" => operands[1],
            _ => operands.Single(o => !o.Contains('[')),
        };
        return (mnemonic, RegisterSize(data));
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void Every_edu_guest_exit_is_attributed_to_an_in_out_or_mov_of_the_access_size(CpuMode mode)
    {
        using var run = GuestRun.Of(EduGuest.Build(mode));
        run.AssertSucceeded();
        var accesses = 0;

        for (var i = 0; i < run.Machine.Trace.Count; i++)
        {
            var exit = run.Machine.Trace.Resolve(i);
            if (exit.Record.Access == TraceAccess.None)
            {
                Assert.Null(run.Machine.InstructionAt(exit));
                continue;
            }
            accesses++;
            var trapped = run.Machine.InstructionAt(exit);
            Assert.True(trapped is not null, $"no instruction for {exit}");
            var (mnemonic, size) = Parse(trapped.Instruction.Text);
            Assert.Equal(exit.Record.Size, size);
            Assert.Equal(exit.Record.Access switch
            {
                TraceAccess.PioRead => "in",
                TraceAccess.PioWrite => "out",
                _ => "mov",
            }, mnemonic);
            // RIP is at the instruction or just past it, as this backend's rule for the exit kind says.
            var rule = exit.Record.Access switch
            {
                TraceAccess.PioRead => BackendRules.In,
                TraceAccess.PioWrite => BackendRules.Out,
                TraceAccess.MmioRead => BackendRules.MmioRead,
                _ => BackendRules.MmioWrite,
            };
            Assert.Equal(BackendRules.Rip(rule, trapped.Instruction.Ip, trapped.Instruction.Bytes.Length), exit.Record.Rip);
        }
        Assert.True(accesses > 800, $"only {accesses} accesses traced");
    }

    [KvmFact]
    public void Real_mode_records_are_decoded_in_the_images_load_segment()
    {
        using var run = GuestRun.Of(HelloGuest.Build(CpuMode.Real));
        run.AssertSucceeded();

        // By access, not by index: on a slow host the trace also holds exits with no access (an interrupt window, a
        // signal) between the guest's port accesses.
        var accesses = Enumerable.Range(0, run.Machine.Trace.Count).Where(i => run.Machine.Trace[i].Access != TraceAccess.None).ToList();
        var lsr = run.Machine.Trace.Resolve(accesses.First(i => run.Machine.Trace[i].Access == TraceAccess.PioRead));
        var thr = run.Machine.Trace.Resolve(accesses.First(i => run.Machine.Trace[i].Access == TraceAccess.PioWrite));
        var last = run.Machine.Trace.Resolve(accesses.Last());

        Assert.Equal("serial.LSR", lsr.Target);
        Assert.Equal("in al,dx", run.Machine.InstructionAt(lsr)!.Instruction.Text);
        Assert.Equal("out dx,al", run.Machine.InstructionAt(thr)!.Instruction.Text);
        Assert.Equal("isa-debug-exit.exit", last.Target);
        Assert.Equal("out dx,al", TraceDisassembly.Of(run.Machine, last.Sequence)!.Instruction.Text);
        // RIP is the IP: decoding at a wrong segment base finds no such instruction there.
        Assert.Null(TraceDisassembly.Of(run.Machine, lsr, CpuMode.Real, codeSegmentBase: 0));
    }
}
