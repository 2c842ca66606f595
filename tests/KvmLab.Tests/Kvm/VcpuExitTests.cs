using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Tests.Kvm;

public sealed class VcpuExitTests
{
    [KvmFact]
    public void RealModeOutThenHltReportsPortSizeValueAndRipWhereThisBackendLeavesIt()
    {
        // mov al,0x42 ; mov dx,0x3F8 ; out dx,al ; hlt
        using var m = new TestMachine([0xB0, 0x42, 0xBA, 0xF8, 0x03, 0xEE, 0xF4]);
        var exit = m.Run();
        Assert.Equal(ExitReason.Io, exit.Reason);
        Assert.Equal(new IoExit(IoDirection.Out, 0x3F8, 1, 1, exit.Io.DataOffset, 0x42), exit.Io);
        Assert.Equal([0x42], m.Vcpu.WriteData.ToArray());
        // At the OUT (5) on SVM/VMX, which complete it on the next KVM_RUN; past it (6) on kvm_pvm.
        Assert.Equal(BackendRules.Rip(BackendRules.Out, 5, 1), m.Vcpu.Rip);
        Assert.Equal("OUT port 0x3F8 size 1 value 0x42", exit.ToString());
        Assert.Equal(ExitReason.Hlt, m.Run().Reason);
    }

    [KvmFact]
    public void InCompletedWithAValueLandsInTheGuestRegister()
    {
        // mov dx,0x60 ; in al,dx ; hlt
        using var m = new TestMachine([0xBA, 0x60, 0x00, 0xEC, 0xF4]);
        var exit = m.Run();
        Assert.Equal(new IoExit(IoDirection.In, 0x60, 1, 1, exit.Io.DataOffset, 0), exit.Io);
        Assert.Equal(BackendRules.Rip(BackendRules.In, 3, 1), m.Vcpu.Rip);
        Assert.True(m.Vcpu.IsReadPending);
        m.Vcpu.CompleteRead(0xA5);
        Assert.Equal(ExitReason.Hlt, m.Run().Reason);
        Assert.Equal(0xA5UL, m.Vcpu.GetRegisters().Rax & 0xFF);
    }

    [KvmFact]
    public void RunWithAnUncompletedReadThrowsNamingThePortAndRip()
    {
        using var m = new TestMachine([0xBA, 0x60, 0x00, 0xEC, 0xF4]);
        m.Run();
        var error = Assert.Throws<InvalidOperationException>(() => m.Vcpu.Run());
        Assert.Contains("port 0x60", error.Message);
        Assert.Contains("RIP 0x3", error.Message);
    }

    [KvmFact]
    public void MmioWriteThenReadRoundTripsThroughTheVmm()
    {
        // 32-bit: mov dword [0xE0000000],0x12345678 ; mov eax,[0xE0000004] ; hlt
        byte[] code = [0xC7, 0x05, 0x00, 0x00, 0x00, 0xE0, 0x78, 0x56, 0x34, 0x12, 0xA1, 0x04, 0x00, 0x00, 0xE0, 0xF4];
        using var m = new TestMachine(code, CpuMode.Protected);
        var write = m.Run();
        Assert.Equal(new MmioExit(true, 0xE000_0000, 4, 0x1234_5678), write.Mmio);
        Assert.Equal([0x78, 0x56, 0x34, 0x12], m.Vcpu.WriteData.ToArray());
        var read = m.Run();
        Assert.Equal(new MmioExit(false, 0xE000_0004, 4, 0), read.Mmio);
        m.Vcpu.CompleteRead(0xCAFE_BABE);
        Assert.Equal(ExitReason.Hlt, m.Run().Reason);
        Assert.Equal(0xCAFE_BABEUL, m.Vcpu.GetRegisters().Rax);
    }

    [KvmFact]
    public void TripleFaultIsAShutdownExit()
    {
        // ud2 with an empty IDT: #UD cannot be delivered -> #DF cannot -> triple fault.
        using var m = new TestMachine([0x0F, 0x0B], CpuMode.Protected);
        var sregs = m.Vcpu.GetSpecialRegisters();
        sregs.Idt.Limit = 0;
        m.Vcpu.SetSpecialRegisters(sregs);
        Assert.Equal(ExitReason.Shutdown, m.Run().Reason);
    }

    [KvmFact]
    public void SingleStepGivesOneDebugExitPerInstruction()
    {
        // nop ; inc ax ; nop ; out dx,al
        using var m = new TestMachine([0x90, 0x40, 0x90, 0xEE]);
        m.Vcpu.SetGuestDebug(singleStep: true);
        var pcs = new List<ulong>();
        for (int i = 0; i < 3; i++)
        {
            var exit = m.Run();
            Assert.Equal(ExitReason.Debug, exit.Reason);
            Assert.True(exit.Debug.IsSingleStep, exit.ToString());
            pcs.Add(m.Vcpu.Rip);
        }
        Assert.Equal([1UL, 2UL, 3UL], pcs);
    }

    [KvmFact]
    public void RepOutsbDeliversEveryByteInOrder()
    {
        // mov si,msg ; mov cx,5 ; mov dx,0x3F8 ; cld ; rep outsb ; hlt ; msg: "hello"
        // KVM may hand the string over in one exit (count 5) or, as kvm_pvm does, one element per exit.
        byte[] code = [0xBE, 0x0F, 0x00, 0xB9, 0x05, 0x00, 0xBA, 0xF8, 0x03, 0xFC, 0xF3, 0x6E, 0xF4, 0x90, 0x90, .. "hello"u8];
        using var m = new TestMachine(code);
        var received = new List<byte>();
        VcpuExit exit;
        while ((exit = m.Run()).Reason == ExitReason.Io)
        {
            Assert.Equal((int)(exit.Io.Count * exit.Io.Size), m.Vcpu.WriteData.Length);
            received.AddRange(m.Vcpu.WriteData.ToArray());
        }
        Assert.Equal(ExitReason.Hlt, exit.Reason);
        Assert.Equal("hello"u8.ToArray(), received.ToArray());
    }

    [KvmFact]
    public void StringOutValueIsItsFirstElementNotTheFirstEightBytes()
    {
        // mov si,msg ; mov cx,9 ; mov dx,0x3F8 ; cld ; rep outsb ; hlt ; msg: "ABCDEFGHI"
        byte[] code = [0xBE, 0x0F, 0x00, 0xB9, 0x09, 0x00, 0xBA, 0xF8, 0x03, 0xFC, 0xF3, 0x6E, 0xF4, 0x90, 0x90, .. "ABCDEFGHI"u8];
        using var m = new TestMachine(code);
        var exit = m.Run();
        Assert.Equal((ulong)'A', exit.Io.Value);
        while (exit.Reason == ExitReason.Io)
        {
            Assert.Equal((ulong)m.Vcpu.WriteData[0], exit.Io.Value);
            exit = m.Run();
        }
        Assert.Equal(ExitReason.Hlt, exit.Reason);
    }

    [KvmFact]
    public void RepInsbIsOneExitWithCountAboveOneCompletedFromASpan()
    {
        // mov di,0x2000 ; mov cx,4 ; mov dx,0x60 ; cld ; rep insb ; hlt   (ES = the image segment 0x1000)
        using var m = new TestMachine([0xBF, 0x00, 0x20, 0xB9, 0x04, 0x00, 0xBA, 0x60, 0x00, 0xFC, 0xF3, 0x6C, 0xF4]);
        var exit = m.Run();
        Assert.Equal(ExitReason.Io, exit.Reason);
        Assert.Equal((IoDirection.In, (ushort)0x60, 4u), (exit.Io.Direction, exit.Io.Port, exit.Io.Count));
        Assert.Throws<InvalidOperationException>(() => m.Vcpu.CompleteRead(0x41));
        m.Vcpu.CompleteRead("ABCD"u8);
        Assert.Equal(ExitReason.Hlt, m.Run().Reason);
        Assert.Equal("ABCD"u8.ToArray(), m.Ram.GetSpan(0x12000, 4).ToArray());
    }

    [Fact]
    public void ReadingTheWrongViewThrows()
    {
        var exit = default(VcpuExit);
        Assert.Equal(ExitReason.Unknown, exit.Reason);
        var error = Assert.Throws<InvalidOperationException>(() => exit.Io);
        Assert.Contains("not Io", error.Message);
    }
}
