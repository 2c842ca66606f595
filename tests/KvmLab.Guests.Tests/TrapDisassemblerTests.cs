using KvmLab.Kvm;
using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class TrapDisassemblerTests
{
    [Fact]
    public void Port_write_is_found_before_rip_where_kvm_completed_the_out_before_exiting()
    {
        byte[] code = [0xBA, 0xF8, 0x03, 0xEE, 0xEB, 0xFE]; // mov dx,0x3f8; out dx,al; jmp $
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x1000, rip: 0x1004, CpuMode.Real, TrapKind.PortWrite, 1, ExitRip.PastInstruction, port: 0x3F8);

        Assert.NotNull(trap);
        Assert.Equal("out dx,al", trap.Instruction.Text);
        Assert.Equal(0x1003UL, trap.Instruction.Ip);
        Assert.False(trap.IsAmbiguous);
    }

    [Fact]
    public void Port_write_is_decoded_at_rip_where_kvm_completes_the_out_on_the_next_run()
    {
        // SVM and VMX leave RIP at the OUT (complete_fast_pio_out skips it on the next KVM_RUN).
        byte[] code = [0xBA, 0xF8, 0x03, 0xEE, 0xEB, 0xFE]; // mov dx,0x3f8; out dx,al; jmp $
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x1000, rip: 0x1003, CpuMode.Real, TrapKind.PortWrite, 1, ExitRip.AtInstruction, port: 0x3F8);

        Assert.NotNull(trap);
        Assert.Equal("out dx,al", trap.Instruction.Text);
        Assert.Equal(0x1003UL, trap.Instruction.Ip);
        Assert.Null(TrapDisassembler.FindTrappingInstruction(code, 0x1000, rip: 0x1004, CpuMode.Real, TrapKind.PortWrite, 1, ExitRip.AtInstruction, port: 0x3F8));
    }

    [Fact]
    public void Port_read_is_decoded_at_rip_because_in_completes_on_the_next_run()
    {
        byte[] code = [0xBA, 0xFD, 0x03, 0xEC, 0xA8, 0x20]; // mov dx,0x3fd; in al,dx; test al,0x20
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x1000, rip: 0x1003, CpuMode.Real, TrapKind.PortRead, 1, ExitRip.AtInstruction, port: 0x3FD);

        Assert.NotNull(trap);
        Assert.Equal("in al,dx", trap.Instruction.Text);
    }

    [Fact]
    public void Port_write_of_the_wrong_size_is_not_attributed_to_a_byte_out()
    {
        byte[] code = [0xBA, 0xF8, 0x03, 0xEE];
        Assert.Null(TrapDisassembler.FindTrappingInstruction(code, 0, rip: 4, CpuMode.Real, TrapKind.PortWrite, 4, ExitRip.PastInstruction));
    }

    [Fact]
    public void Mmio_write_is_the_memory_writing_instruction_ending_at_rip_with_the_access_size()
    {
        byte[] code = [0xBF, 0x04, 0x00, 0x00, 0xE0, 0x89, 0x07, 0xF4]; // mov edi,0xe0000004; mov [edi],eax; hlt
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x100000, rip: 0x100007, CpuMode.Protected, TrapKind.MmioWrite, 4, ExitRip.PastInstruction);

        Assert.NotNull(trap);
        Assert.Equal("mov [edi],eax", trap.Instruction.Text);
        Assert.Equal(new byte[] { 0x89, 0x07 }, trap.Instruction.Bytes);
        Assert.Null(TrapDisassembler.FindTrappingInstruction(code, 0x100000, rip: 0x100007, CpuMode.Protected, TrapKind.MmioWrite, 1, ExitRip.PastInstruction));
    }

    [Fact]
    public void Long_mode_qword_mmio_write_needs_the_rex_prefix_to_match_eight_bytes()
    {
        byte[] code = [0x90, 0x48, 0x89, 0x07]; // nop; mov [rdi],rax
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x100000, rip: 0x100004, CpuMode.Long, TrapKind.MmioWrite, 8, ExitRip.PastInstruction);

        Assert.NotNull(trap);
        Assert.Equal("mov [rdi],rax", trap.Instruction.Text);
        Assert.False(trap.IsAmbiguous);
    }

    [Fact]
    public void Mmio_read_is_decoded_at_rip()
    {
        byte[] code = [0x0F, 0xB6, 0x07, 0xF4]; // movzx eax,byte [edi]; hlt
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x100000, rip: 0x100000, CpuMode.Protected, TrapKind.MmioRead, 1, ExitRip.AtInstruction);

        Assert.NotNull(trap);
        Assert.Equal("movzx eax,byte [edi]", trap.Instruction.Text);
    }

    [Fact]
    public void Out_imm8_whose_last_byte_is_also_out_dx_is_reported_as_ambiguous_longest_first()
    {
        byte[] code = [0xE6, 0xEE]; // out 0xEE,al -- and 0xEE alone is out dx,al
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x7C00, rip: 0x7C02, CpuMode.Real, TrapKind.PortWrite, 1, ExitRip.PastInstruction, port: 0xEE);

        Assert.NotNull(trap);
        Assert.True(trap.IsAmbiguous);
        Assert.Equal(["out 0xEE,al", "out dx,al"], trap.Candidates.Select(c => c.Text));
    }

    [Fact]
    public void Known_port_rules_out_an_immediate_form_naming_another_port()
    {
        byte[] code = [0xE6, 0xEE];
        var trap = TrapDisassembler.FindTrappingInstruction(code, 0x7C00, rip: 0x7C02, CpuMode.Real, TrapKind.PortWrite, 1, ExitRip.PastInstruction, port: 0x3F8);

        Assert.NotNull(trap);
        Assert.Equal("out dx,al", trap.Instruction.Text);
        Assert.False(trap.IsAmbiguous);
    }

    [Fact]
    public void Rip_outside_the_supplied_bytes_yields_no_attribution_instead_of_throwing()
    {
        Assert.Null(TrapDisassembler.FindTrappingInstruction([0xEE], 0x1000, rip: 0x2000, CpuMode.Real, TrapKind.PortWrite, 1, ExitRip.PastInstruction));
    }

    [Fact]
    public void Listing_decodes_in_order_and_turns_bad_bytes_into_bad_entries_without_throwing()
    {
        byte[] code = [0xEE, 0xF4, 0xF0, 0x90, 0xB8, 0x01]; // out dx,al; hlt; lock nop (invalid); truncated mov
        var listing = TrapDisassembler.Disassemble(code, 0x1000, CpuMode.Protected, 10);

        Assert.Equal("out dx,al", listing[0].Text);
        Assert.Equal("hlt", listing[1].Text);
        Assert.Equal("(bad)", listing[2].Text);
        Assert.Equal("(bad)", listing[^1].Text);
        Assert.All(listing, i => Assert.NotEmpty(i.Bytes));
    }

    [Fact]
    public void The_mmio_write_in_the_edu_guest_is_found_from_its_own_bytes()
    {
        var image = BarLoopGuest.Build(CpuMode.Long, 10);
        var listing = TrapDisassembler.Disassemble(image.Bytes, image.Entry, image.Mode, 400);
        var store = listing.First(i => i.Text == "mov [rdi],eax");
        var rip = store.Ip + (ulong)store.Bytes.Length;

        var trap = TrapDisassembler.FindTrappingInstruction(image.Bytes, image.Entry, rip, image.Mode, TrapKind.MmioWrite, 4, ExitRip.PastInstruction);

        Assert.NotNull(trap);
        Assert.Equal(store.Ip, trap.Instruction.Ip);
        Assert.Equal("mov [rdi],eax", trap.Instruction.Text);
    }
}
