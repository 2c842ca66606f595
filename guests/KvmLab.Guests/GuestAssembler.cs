using System.Text;
using Iced.Intel;
using KvmLab.Loading;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>
/// Iced's <see cref="Iced.Intel.Assembler"/> for one CPU mode, plus the handful of helpers every KvmLab guest needs:
/// print over COM1, PCI configuration access through conf1 or ECAM, MMIO and port access, debug-exit and halt.
/// Write free-form code with <see cref="Asm"/>; call the helpers in between; finish with <see cref="Build"/>.
/// </summary>
/// <remarks>
/// <para>Register conventions (the same in all modes; "A" means EAX in 16/32-bit code and RAX in 64-bit code):</para>
/// <list type="bullet">
/// <item><description><see cref="Print"/>, <see cref="PrintHex"/>, <see cref="PrintDecimal"/>,
/// <see cref="ConfigRead32"/>, <see cref="ConfigWrite32"/> preserve every register except their documented outputs.</description></item>
/// <item><description><see cref="PrintHex"/> / <see cref="PrintDecimal"/> print A.
/// <see cref="ConfigRead32"/> takes a <see cref="ConfigAddress"/> in EAX and returns the dword in EAX;
/// <see cref="ConfigWrite32"/> writes EBX there.</description></item>
/// <item><description>The immediate-operand helpers (<see cref="ConfigRead"/>, <see cref="MmioRead(ulong,int)"/>,
/// <see cref="PortRead"/>, their writes) clobber A, EDX and (E/R)DI, and leave a read's value zero-extended in A.</description></item>
/// </list>
/// <para>Real-mode code is assembled relative to its own 16-byte-aligned segment and starts by copying CS into
/// DS and ES, so its data is CS-relative and the same bytes run at any paragraph (0x1000:0000 from our loader,
/// or wherever a firmware stub put them).</para>
/// </remarks>
public sealed partial class GuestAssembler
{
    /// <summary>Value a guest writes to debug-exit when it succeeded; QEMU then exits with status 0x21.</summary>
    public const byte ExitSuccess = 0x10;

    /// <summary>Value a guest writes to debug-exit when a check failed; QEMU then exits with status 0x23.</summary>
    public const byte ExitFailure = 0x11;

    /// <summary>COM1 line status register: bit 5 (THRE) says the transmit holding register is empty.</summary>
    public const ushort Com1LineStatusPort = PcLayout.Com1Port + 5;

    private const byte LineStatusThre = 0x20;

    private readonly List<(Label Label, byte[] Bytes)> _data = [];
    private readonly Dictionary<string, Label> _strings = [];
    private readonly Dictionary<Routine, Label> _routines = [];
    private readonly List<(int Index, Label Label)> _addressFixups = [];

    private enum Routine { PutChar, PutString, PutHex, PutDecimal, Conf1Read32, Conf1Write32, EcamRead32, EcamWrite32 }

    /// <summary>Starts a guest for <paramref name="mode"/> loaded at <paramref name="loadAddress"/>.</summary>
    /// <param name="mode">The CPU mode the guest's first instruction runs in.</param>
    /// <param name="loadAddress">Guest-physical load address; defaults to <see cref="PcLayout.DefaultRealModeLoadAddress"/>
    /// in real mode and <see cref="PcLayout.DefaultFlatLoadAddress"/> otherwise.</param>
    public GuestAssembler(CpuMode mode, ulong? loadAddress = null)
    {
        Mode = mode;
        Bitness = mode.Bitness();
        LoadAddress = loadAddress ?? PcLayout.DefaultLoadAddress(mode);
        if (LoadAddress < PcLayout.LoaderAreaEnd)
            throw new ArgumentOutOfRangeException(nameof(loadAddress), $"0x{LoadAddress:X} is inside the loader area 0x{PcLayout.LoaderAreaBase:X}..0x{PcLayout.LoaderAreaEnd:X}.");
        if (mode == CpuMode.Real && LoadAddress >= 0x10_0000)
            throw new ArgumentOutOfRangeException(nameof(loadAddress), $"A real-mode guest must load below 1 MiB, not at 0x{LoadAddress:X}.");
        Asm = new Assembler(Bitness);
        if (mode == CpuMode.Real)
        {
            Asm.push(cs);
            Asm.pop(ds);
            Asm.push(cs);
            Asm.pop(es);
        }
        Asm.cld();
    }

    /// <summary>The mode the code is assembled for.</summary>
    public CpuMode Mode { get; }

    /// <summary>16, 32 or 64.</summary>
    public int Bitness { get; }

    /// <summary>Guest-physical address of the image's first byte (which is also its entry point).</summary>
    public ulong LoadAddress { get; }

    /// <summary>The underlying Iced assembler, for any instruction the helpers do not cover.</summary>
    public Assembler Asm { get; }

    /// <summary>
    /// The address real-mode code is assembled at: the offset of <see cref="LoadAddress"/> inside its paragraph-aligned
    /// segment. In protected and long mode code is assembled at its physical address (flat segments, identity paging).
    /// </summary>
    public ulong Origin => Mode == CpuMode.Real ? LoadAddress & 0xF : LoadAddress;

    /// <summary>A new label (bind it with <c>Asm.Label(ref label)</c>).</summary>
    public Label CreateLabel(string? name = null) => Asm.CreateLabel(name);

    /// <summary>A NUL-terminated string placed in the image's data; the same text is stored once.</summary>
    public Label String(string text)
    {
        if (!_strings.TryGetValue(text, out var label))
        {
            label = Asm.CreateLabel();
            _data.Add((label, [.. Encoding.ASCII.GetBytes(text), 0]));
            _strings.Add(text, label);
        }
        return label;
    }

    /// <summary>
    /// Bytes placed after the code (writable: the image is in RAM). Data is packed without alignment, which x86
    /// tolerates everywhere the guests use it (descriptor tables, DMA buffers, variables).
    /// </summary>
    public Label Data(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var label = Asm.CreateLabel();
        _data.Add((label, (byte[])bytes.Clone()));
        return label;
    }

    /// <summary>A zero-filled, writable buffer of <paramref name="size"/> bytes in the image.</summary>
    public Label Reserve(int size) => Data(new byte[size]);

    /// <summary>
    /// Loads the address of <paramref name="label"/> into a 32-bit register (zero-extending in long mode; in real
    /// mode the address is the offset in the guest's segment). Iced encodes label memory operands RIP-relative,
    /// which only long mode has; this <c>mov r32, imm32</c> works in every mode.
    /// </summary>
    public void LoadAddressOf(AssemblerRegister32 destination, Label label)
    {
        _addressFixups.Add((Asm.Instructions.Count, label));
        // The immediate is patched after encoding; mov r32, imm32 has one fixed-size form, so the layout holds.
        Asm.mov(destination, 0u);
    }

    /// <summary>
    /// A memory operand addressed by <paramref name="register"/>: <c>[reg32]</c> in 16/32-bit code and the matching
    /// <c>[reg64]</c> in long mode, so one guest source works in both.
    /// </summary>
    public AssemblerMemoryOperand At(AssemblerRegister32 register, int displacement = 0) =>
        Bitness == 64
            ? __[Wide(register) + displacement]
            : __[register + displacement];

    /// <summary>Reads <paramref name="size"/> (1, 2, 4; 8 in long mode) bytes at a guest-physical address into A.</summary>
    public void MmioRead(ulong address, int size)
    {
        LoadAddressRegister(address);
        MmioRead(size);
    }

    /// <summary>Reads <paramref name="size"/> bytes at the address in EDI (RDI in long mode) into A, zero-extended.</summary>
    public void MmioRead(int size)
    {
        CheckMmio(size);
        var p = Bitness == 64 ? __[rdi] : __[edi];
        switch (size)
        {
            case 1: Asm.movzx(eax, __byte_ptr[p]); break;
            case 2: Asm.movzx(eax, __word_ptr[p]); break;
            case 4: Asm.mov(eax, __dword_ptr[p]); break;
            default: Asm.mov(rax, __qword_ptr[p]); break;
        }
    }

    /// <summary>Writes <paramref name="size"/> bytes of <paramref name="value"/> to a guest-physical address.</summary>
    public void MmioWrite(ulong address, int size, ulong value)
    {
        LoadAddressRegister(address);
        CheckMmio(size);
        if (size == 8)
            Asm.mov(rax, value);
        else
            Asm.mov(eax, (uint)value);
        MmioWrite(size);
    }

    /// <summary>Writes the low <paramref name="size"/> bytes of A to the address in EDI (RDI in long mode).</summary>
    public void MmioWrite(int size)
    {
        CheckMmio(size);
        var p = Bitness == 64 ? __[rdi] : __[edi];
        switch (size)
        {
            case 1: Asm.mov(__byte_ptr[p], al); break;
            case 2: Asm.mov(__word_ptr[p], ax); break;
            case 4: Asm.mov(__dword_ptr[p], eax); break;
            default: Asm.mov(__qword_ptr[p], rax); break;
        }
    }

    /// <summary>Reads 1, 2 or 4 bytes from an I/O port into A (zero-extended), through DX.</summary>
    public void PortRead(ushort port, int size)
    {
        Asm.mov(dx, port);
        switch (size)
        {
            case 1: Asm.@in(al, dx); Asm.movzx(eax, al); break;
            case 2: Asm.@in(ax, dx); Asm.movzx(eax, ax); break;
            case 4: Asm.@in(eax, dx); break;
            default: throw new ArgumentOutOfRangeException(nameof(size), "Port accesses are 1, 2 or 4 bytes.");
        }
    }

    /// <summary>Writes 1, 2 or 4 bytes of <paramref name="value"/> to an I/O port, through DX.</summary>
    public void PortWrite(ushort port, int size, uint value)
    {
        Asm.mov(dx, port);
        Asm.mov(eax, value);
        switch (size)
        {
            case 1: Asm.@out(dx, al); break;
            case 2: Asm.@out(dx, ax); break;
            case 4: Asm.@out(dx, eax); break;
            default: throw new ArgumentOutOfRangeException(nameof(size), "Port accesses are 1, 2 or 4 bytes.");
        }
    }

    /// <summary>
    /// Ends the run through isa-debug-exit (QEMU exits with status <c>(value&lt;&lt;1)|1</c>); halts if no device
    /// claims the port.
    /// </summary>
    public void IsaDebugExit(byte value)
    {
        PortWrite(PcLayout.IsaDebugExitPort, 1, value);
        Halt();
    }

    /// <summary>Disables interrupts and halts for good (a HLT loop, so a stray wake-up halts again).</summary>
    public void Halt()
    {
        var again = Asm.CreateLabel();
        Asm.cli();
        Asm.Label(ref again);
        Asm.hlt();
        Asm.jmp(again);
    }

    /// <summary>Appends the helper routines and data the code used and encodes everything into a <see cref="GuestImage"/>.</summary>
    public GuestImage Build(string name)
    {
        EmitRoutines();
        foreach (var (label, bytes) in _data)
        {
            var l = label;
            Asm.Label(ref l);
            foreach (var b in bytes)
                Asm.db(b);
        }
        using var stream = new MemoryStream();
        var result = Asm.Assemble(new StreamCodeWriter(stream), Origin,
            BlockEncoderOptions.ReturnNewInstructionOffsets | BlockEncoderOptions.ReturnConstantOffsets);
        var image = stream.ToArray();
        var block = result.Result[0];
        // Label structs are copied freely, so only the assembler's record is reliable: a bound label's id sits in
        // the IP field of the instruction it was bound to.
        var boundAt = new Dictionary<ulong, int>();
        for (var i = 0; i < Asm.Instructions.Count; i++)
            if (Asm.Instructions[i].IP != 0)
                boundAt.TryAdd(Asm.Instructions[i].IP, i);
        foreach (var (index, label) in _addressFixups)
        {
            if (!boundAt.TryGetValue(label.Id, out var target))
                throw new InvalidOperationException($"Label {label} is used by LoadAddressOf but never bound.");
            var at = (int)block.NewInstructionOffsets[index] + block.ConstantOffsets[index].ImmediateOffset;
            BitConverter.TryWriteBytes(image.AsSpan(at, 4), checked((uint)(Origin + block.NewInstructionOffsets[target])));
        }
        return new GuestImage(name, image, LoadAddress, LoadAddress, Mode);
    }

    private enum Gp { A, B, C, D, Si, Di }

    private void Push(Gp r) => Push(Reg32(r));

    private void Pop(Gp r) => Pop(Reg32(r));

    /// <summary>Pushes a general register at the native width (its 64-bit form in long mode, where 32-bit pushes do not exist).</summary>
    public void Push(AssemblerRegister32 register)
    {
        if (Bitness == 64) Asm.push(Wide(register)); else Asm.push(register);
    }

    /// <summary>Pops a general register pushed by <see cref="Push(AssemblerRegister32)"/>.</summary>
    public void Pop(AssemblerRegister32 register)
    {
        if (Bitness == 64) Asm.pop(Wide(register)); else Asm.pop(register);
    }

    private static AssemblerRegister64 Wide(AssemblerRegister32 r) => new(r.Value - Register.EAX + Register.RAX);

    private static AssemblerRegister32 Reg32(Gp r) => r switch { Gp.A => eax, Gp.B => ebx, Gp.C => ecx, Gp.D => edx, Gp.Si => esi, _ => edi };

    private Label RoutineLabel(Routine routine)
    {
        if (Mode == CpuMode.Real && routine is Routine.EcamRead32 or Routine.EcamWrite32)
            throw new InvalidOperationException("ECAM lies at 0x" + PcLayout.EcamBase.ToString("X") + ", beyond real mode's reach: use protected or long mode.");
        if (!_routines.TryGetValue(routine, out var label))
        {
            label = Asm.CreateLabel(routine.ToString());
            _routines.Add(routine, label);
        }
        return label;
    }

    private void CheckMmio(int size)
    {
        if (Mode == CpuMode.Real)
            throw new InvalidOperationException("The MMIO helpers address 32-bit physical memory: use protected or long mode.");
        if (size is not (1 or 2 or 4 or 8))
            throw new ArgumentOutOfRangeException(nameof(size), "MMIO accesses are 1, 2, 4 or 8 bytes.");
        if (size == 8 && Mode != CpuMode.Long)
            throw new InvalidOperationException("An 8-byte MMIO access needs a 64-bit register: use long mode.");
    }

    private void LoadAddressRegister(ulong address)
    {
        if (Mode == CpuMode.Real)
            throw new InvalidOperationException("The MMIO helpers address 32-bit physical memory: use protected or long mode.");
        if (address > uint.MaxValue)
        {
            if (Mode != CpuMode.Long)
                throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:X} is above 4 GiB: use long mode.");
            Asm.mov(rdi, address);
        }
        else
        {
            // In long mode a 32-bit move zero-extends into RDI: the short form reaches all of the low 4 GiB.
            Asm.mov(edi, (uint)address);
        }
    }

    private void EmitRoutines()
    {
        // Routines may request others (PutString needs PutChar), so loop until nothing new appears.
        var emitted = new HashSet<Routine>();
        while (_routines.Keys.Except(emitted).ToList() is { Count: > 0 } pending)
        {
            foreach (var routine in pending)
            {
                var label = _routines[routine];
                Asm.Label(ref label);
                EmitRoutine(routine);
                emitted.Add(routine);
            }
        }
    }

    private void EmitRoutine(Routine routine)
    {
        switch (routine)
        {
            case Routine.PutChar: EmitPutChar(); break;
            case Routine.PutString: EmitPutString(); break;
            case Routine.PutHex: EmitPutHex(); break;
            case Routine.PutDecimal: EmitPutDecimal(); break;
            case Routine.Conf1Read32: EmitConf1(write: false); break;
            case Routine.Conf1Write32: EmitConf1(write: true); break;
            case Routine.EcamRead32: EmitEcam(write: false); break;
            case Routine.EcamWrite32: EmitEcam(write: true); break;
        }
    }

}
