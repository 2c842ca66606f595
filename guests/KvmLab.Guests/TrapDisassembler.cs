using Iced.Intel;
using KvmLab.Kvm;
using KvmLab.Loading;

namespace KvmLab.Guests;

/// <summary>
/// Names the instruction behind a VM exit, in NASM syntax, from the guest code bytes around RIP.
/// </summary>
/// <remarks>
/// <para>Where KVM left RIP is a fact of the exit kind and the backend (<see cref="KvmLab.Kvm.KvmBehaviour"/>): when
/// the access has not completed, RIP points at the instruction and decoding at RIP is exact (IN and MMIO reads
/// everywhere, OUT on SVM/VMX). When KVM completed it first, RIP points past it (MMIO writes everywhere, OUT on
/// kvm_pvm), and x86 cannot be decoded backwards uniquely. The disassembler then tries every start from RIP-1 to
/// RIP-15, keeps the decodings that end exactly at RIP and perform the access (an OUT/OUTS of the exit's size; an
/// instruction writing memory with the exit's size) and, when the port is known, drops immediate-port forms naming
/// another port. Several may survive: <c>e6 ee</c> is <c>out 0xEE,al</c>, but its last byte alone is
/// <c>out dx,al</c>; for an exit on port 0xEE both end at RIP and both fit. It then picks the longest, since a
/// decoding that starts earlier accounts for more of the bytes before RIP, and lists the others in
/// <see cref="TrappedInstruction.Candidates"/>. Only the guest's registers or an earlier trace entry could settle it
/// (was DX 0xEE?); the disassembler does not guess further.</para>
/// <para>Bytes that do not decode never throw; they produce <c>(bad)</c> entries, as Iced does.</para>
/// </remarks>
public static class TrapDisassembler
{
    private const int MaxInstructionLength = 15;

    /// <summary>Decodes up to <paramref name="count"/> instructions from <paramref name="code"/>, which starts at <paramref name="ip"/>.</summary>
    public static IReadOnlyList<DisassembledInstruction> Disassemble(ReadOnlySpan<byte> code, ulong ip, CpuMode mode, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var result = new List<DisassembledInstruction>();
        var bytes = code.ToArray();
        var decoder = Decoder.Create(mode.Bitness(), new ByteArrayCodeReader(bytes), ip);
        var formatter = Formatter();
        while (result.Count < count && decoder.IP < ip + (ulong)bytes.Length)
        {
            var start = (int)(decoder.IP - ip);
            decoder.Decode(out var instruction);
            result.Add(ToRecord(instruction, bytes, start, formatter));
            if (decoder.IP <= ip + (ulong)start)
                break;
        }
        return result;
    }

    /// <summary>
    /// Finds the instruction that caused an exit. <paramref name="code"/> holds guest code starting at
    /// <paramref name="codeIp"/> and must cover RIP-15..RIP+15 where the guest has them (less near the image's edges).
    /// </summary>
    /// <param name="code">Guest code bytes.</param>
    /// <param name="codeIp">The instruction-pointer value of <paramref name="code"/>[0].</param>
    /// <param name="rip">RIP as KVM_RUN reported it.</param>
    /// <param name="mode">The CPU mode the guest was in.</param>
    /// <param name="kind">The exit.</param>
    /// <param name="size">The access size the exit reported (1, 2, 4 or 8).</param>
    /// <param name="ripPosition">Where KVM left RIP for this exit (<see cref="KvmLab.Kvm.KvmBehaviour.IsRipPast"/> says, per backend).</param>
    /// <param name="port">For port exits, the port, to tell <c>out imm8</c> forms apart; null if unknown.</param>
    /// <returns>The attribution, or null when no decoding fits (code not covered, or not the guest's real code).</returns>
    public static TrappedInstruction? FindTrappingInstruction(
        ReadOnlySpan<byte> code, ulong codeIp, ulong rip, CpuMode mode, TrapKind kind, int size, ExitRip ripPosition, ushort? port = null)
    {
        var bytes = code.ToArray();
        if (rip < codeIp || rip > codeIp + (ulong)bytes.Length)
            return null;
        var formatter = Formatter();
        var at = (int)(rip - codeIp);
        var candidates = new List<(Instruction Instruction, DisassembledInstruction Record)>();
        if (ripPosition == ExitRip.AtInstruction)
        {
            if (Decode(bytes, at, codeIp, mode) is { } i && Matches(i, kind, size) && PortFits(i, port))
                candidates.Add((i, ToRecord(i, bytes, at, formatter)));
        }
        else
        {
            for (var length = 1; length <= MaxInstructionLength && length <= at; length++)
            {
                var start = at - length;
                if (Decode(bytes, start, codeIp, mode) is { } i && i.Length == length && Matches(i, kind, size) && PortFits(i, port))
                    candidates.Add((i, ToRecord(i, bytes, start, formatter)));
            }
        }
        if (candidates.Count == 0)
            return null;
        var ordered = candidates
            .OrderByDescending(c => c.Instruction.Length)
            .Select(c => c.Record)
            .ToList();
        return new TrappedInstruction(ordered[0], ordered);
    }

    private static Instruction? Decode(byte[] bytes, int start, ulong codeIp, CpuMode mode)
    {
        var decoder = Decoder.Create(mode.Bitness(), new ByteArrayCodeReader(bytes, start, bytes.Length - start), codeIp + (ulong)start);
        decoder.Decode(out var instruction);
        return instruction.IsInvalid ? null : instruction;
    }

    private static bool Matches(in Instruction instruction, TrapKind kind, int size) => kind switch
    {
        TrapKind.PortWrite => instruction.Mnemonic is Mnemonic.Out or Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd
                              && PortAccessSize(instruction) == size,
        TrapKind.PortRead => instruction.Mnemonic is Mnemonic.In or Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd
                             && PortAccessSize(instruction) == size,
        TrapKind.MmioWrite => AccessesMemory(instruction, size, write: true),
        _ => AccessesMemory(instruction, size, write: false),
    };

    // OUT's data register (AL/AX/EAX) or INS/OUTS's element size gives the width of the port access.
    private static int PortAccessSize(in Instruction instruction) => instruction.Mnemonic switch
    {
        Mnemonic.Outsb or Mnemonic.Insb => 1,
        Mnemonic.Outsw or Mnemonic.Insw => 2,
        Mnemonic.Outsd or Mnemonic.Insd => 4,
        Mnemonic.Out => instruction.Op1Register.GetSize(),
        _ => instruction.Op0Register.GetSize(),
    };

    private static bool AccessesMemory(in Instruction instruction, int size, bool write)
    {
        var info = new InstructionInfoFactory().GetInfo(instruction);
        foreach (var used in info.GetUsedMemory())
        {
            var writes = used.Access is OpAccess.Write or OpAccess.CondWrite or OpAccess.ReadWrite or OpAccess.ReadCondWrite;
            var reads = used.Access is OpAccess.Read or OpAccess.CondRead or OpAccess.ReadWrite or OpAccess.ReadCondWrite;
            if ((write ? writes : reads) && used.MemorySize.GetSize() == size)
                return true;
        }
        return false;
    }

    // An immediate-port IN/OUT can only have caused the exit if its immediate is the exit's port; DX forms always fit.
    private static bool PortFits(in Instruction instruction, ushort? port)
    {
        if (port is not { } p)
            return true;
        if (instruction.Mnemonic is Mnemonic.Out && instruction.Op0Kind == OpKind.Immediate8)
            return instruction.Immediate8 == p;
        if (instruction.Mnemonic is Mnemonic.In && instruction.Op1Kind == OpKind.Immediate8)
            return instruction.Immediate8 == p;
        return true;
    }

    private static DisassembledInstruction ToRecord(in Instruction instruction, byte[] bytes, int start, Formatter formatter)
    {
        var length = Math.Min(instruction.Length, bytes.Length - start);
        if (instruction.IsInvalid)
            return new DisassembledInstruction(instruction.IP, bytes.AsSpan(start, Math.Min(Math.Max(length, 1), bytes.Length - start)).ToArray(), "(bad)");
        var output = new StringOutput();
        formatter.Format(instruction, output);
        return new DisassembledInstruction(instruction.IP, bytes.AsSpan(start, length).ToArray(), output.ToStringAndReset());
    }

    private static NasmFormatter Formatter()
    {
        var formatter = new NasmFormatter();
        formatter.Options.HexPrefix = "0x";
        formatter.Options.HexSuffix = "";
        return formatter;
    }
}
