using KvmLab.Loading;
using KvmLab.Pci;

namespace KvmLab.Fuzzing;

/// <summary>
/// Makes fuzz guests: random bytes, "instruction soup" (port I/O, MMIO, PCI configuration cycles and control-register
/// writes aimed at the addresses devices live at, with wild values), and mutations of template images (the guest
/// library). Case <c>i</c> of seed <c>s</c> is always the same image.
/// </summary>
internal sealed class FuzzCaseGenerator
{
    private static readonly ushort[] Ports =
    [
        PcLayout.Com1Port, PcLayout.Com1Port + 1, PcLayout.Com1Port + 2, PcLayout.Com1Port + 3, PcLayout.Com1Port + 5,
        PcLayout.IsaDebugExitPort, PcLayout.IsaDebugExitPort + 1, PcLayout.PciConfigAddressPort, PcLayout.PciConfigAddressPort + 1,
        PcLayout.PciConfigDataPort, PcLayout.PciConfigDataPort + 1, PcLayout.PciConfigDataPort + 2, PcLayout.PciConfigDataPort + 3,
        PcLayout.PciIoWindowBase, PcLayout.PciIoWindowBase + 0x80, 0x20, 0x21, 0x40, 0x43, 0x61, 0x70, 0x71, 0x80, 0x92, 0xFFFF,
    ];

    private static readonly byte[] InterestingBytes = [0x00, 0xFF, 0xF4, 0xCC, 0xEE, 0xEC, 0xEF, 0xED, 0x90, 0xEB, 0xFA, 0xFB, 0x0F, 0x66, 0x67];

    private readonly CpuMode[] _modes;
    private readonly GuestImage[] _templates;

    /// <summary>Creates a generator for <paramref name="modes"/>, mutating those of <paramref name="templates"/> built for one of them.</summary>
    /// <exception cref="ArgumentException">No mode given.</exception>
    public FuzzCaseGenerator(IReadOnlyCollection<CpuMode> modes, IEnumerable<GuestImage>? templates = null)
    {
        ArgumentNullException.ThrowIfNull(modes);
        if (modes.Count == 0)
            throw new ArgumentException("Give at least one CPU mode to fuzz.", nameof(modes));
        _modes = modes.Distinct().ToArray();
        _templates = (templates ?? []).Where(t => _modes.Contains(t.Mode)).ToArray();
    }

    /// <summary>The modes cases are made for.</summary>
    public IReadOnlyList<CpuMode> Modes => _modes;

    /// <summary>The templates mutations start from.</summary>
    public IReadOnlyList<GuestImage> Templates => _templates;

    /// <summary>Case <paramref name="index"/> of the session started with <paramref name="seed"/>.</summary>
    public FuzzCase Create(ulong seed, long index)
    {
        ulong caseSeed = FuzzRandom.CaseSeed(seed, index);
        var r = new FuzzRandom(caseSeed);
        int roll = r.Next(10);
        if (_templates.Length > 0 && roll < 3)
        {
            var template = r.Pick(_templates);
            return new FuzzCase(index, caseSeed, FuzzCaseKind.Mutation, template.Name, Mutate(ref r, template));
        }
        var mode = r.Pick(_modes);
        ulong load = PcLayout.DefaultLoadAddress(mode);
        if (roll < 6)
        {
            var bytes = new byte[r.OneIn(4) ? r.Next(1, 4096) : r.Next(1, 64)];
            r.Fill(bytes);
            return new FuzzCase(index, caseSeed, FuzzCaseKind.RandomBytes, "random bytes",
                new GuestImage($"fuzz-{index}", bytes, load, load, mode));
        }
        var soup = Soup(ref r, mode);
        return new FuzzCase(index, caseSeed, FuzzCaseKind.InstructionSoup, "instruction soup",
            new GuestImage($"fuzz-{index}", soup, load, load, mode));
    }

    private static GuestImage Mutate(ref FuzzRandom r, GuestImage template)
    {
        var bytes = template.Bytes.ToArray();
        int mutations = r.Next(1, 9);
        for (int m = 0; m < mutations; m++)
        {
            int at = r.Next(bytes.Length);
            switch (r.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << r.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)r.NextUInt64();
                    break;
                case 2:
                    bytes[at] = r.Pick(InterestingBytes);
                    break;
                case 3:
                    r.Fill(bytes.AsSpan(at, Math.Min(r.Next(1, 17), bytes.Length - at)));
                    break;
                default:
                    int from = r.Next(bytes.Length);
                    int length = Math.Min(r.Next(1, 33), Math.Min(bytes.Length - at, bytes.Length - from));
                    bytes.AsSpan(from, length).CopyTo(bytes.AsSpan(at));
                    break;
            }
        }
        return template with { Name = $"{template.Name}~{r.NextUInt64() & 0xFFFF:x4}", Bytes = bytes };
    }

    private static byte[] Soup(ref FuzzRandom r, CpuMode mode)
    {
        var code = new SoupWriter(mode);
        int snippets = r.Next(1, 40);
        for (int i = 0; i < snippets; i++)
        {
            switch (r.Next(mode == CpuMode.Real ? 7 : 10))
            {
                case 0:
                case 1:
                    code.SetDx(Port(ref r));
                    code.SetEax(Value(ref r));
                    code.Out(Size(ref r));
                    break;
                case 2:
                    code.SetDx(Port(ref r));
                    code.In(Size(ref r));
                    break;
                case 3:
                    code.ConfigCycle(PciHost.ConfigAddressEnable | (uint)r.Next(0x10000) << 8 | (uint)r.Next(256), Value(ref r), r.OneIn(2));
                    break;
                case 4:
                    code.SetDx(Port(ref r));
                    code.StringIo(r.Next(1, 17), r.OneIn(2));
                    break;
                case 5:
                    code.Control(r.Next(6), Value(ref r));
                    break;
                case 6:
                    code.Raw((byte)r.NextUInt64());
                    break;
                default:
                    code.Mmio(MmioAddress(ref r), Value(ref r), r.Next(4), r.OneIn(2));
                    break;
            }
        }
        switch (r.Next(6))
        {
            case 0:
                code.Raw(0xF4);
                break;
            case 1:
                code.Raw(0xFA, 0xF4);
                break;
            case 2:
                code.SetDx(PcLayout.IsaDebugExitPort);
                code.SetEax((uint)r.Next(4));
                code.Out(1);
                break;
            case 3:
                code.Raw(0x0F, 0x0B);
                break;
            case 4:
                if (r.OneIn(8))
                    code.Raw(0xEB, 0xFE);
                break;
        }
        return code.ToArray();
    }

    private static ushort Port(ref FuzzRandom r) => r.OneIn(4) ? (ushort)r.Next(0x10000) : r.Pick(Ports);

    private static int Size(ref FuzzRandom r) => r.Next(3) switch { 0 => 1, 1 => 2, _ => 4 };

    private static uint Value(ref FuzzRandom r) => r.Next(6) switch
    {
        0 => 0,
        1 => uint.MaxValue,
        2 => (uint)PcLayout.PciMmioWindowBase | (uint)r.Next(0x100000),
        3 => PciHost.ConfigAddressEnable | (uint)r.Next(0x10000) << 8 | (uint)r.Next(256),
        4 => (uint)r.Next(256),
        _ => (uint)r.NextUInt64(),
    };

    private static uint MmioAddress(ref FuzzRandom r) => r.Next(7) switch
    {
        0 or 1 => (uint)PcLayout.EcamBase + (uint)r.Next(1 << 20),
        2 or 3 => (uint)PcLayout.PciMmioWindowBase + (uint)r.Next(0x110000),
        4 => (uint)PcLayout.LocalApicBase + (uint)r.Next(0x1000),
        5 => (uint)(PcLayout.DefaultRamSize - 8) + (uint)r.Next(16),
        _ => (uint)r.NextUInt64(),
    };
}
