using KvmLab.Guests;
using KvmLab.Loading;
using Spectre.Console;

namespace KvmLab.Cli.Commands;

/// <summary><c>kvmlab guests</c>: lists the guest library, shows one guest's lesson and code, exports images for QEMU.</summary>
internal sealed class GuestsCommand : ICommand
{
    /// <inheritdoc />
    public string Name => "guests";

    /// <inheritdoc />
    public string Summary => "list the built-in guests, show one (doc and disassembly), export one for QEMU";

    /// <inheritdoc />
    public string Help =>
        """
        usage: kvmlab guests
               kvmlab guests show NAME [--mode M]
               kvmlab guests export NAME FILE [--mode M] [--qemu-bios [--machine pc|q35]]

        guests         lists every guest: name, the modes it is built for (default first), what it teaches
        show NAME      prints the guest's lesson and a disassembly of its code
        export NAME F  writes the guest's flat image to F (the bytes kvmlab loads at the load address) or, with
                       --qemu-bios, a 64 KiB firmware image for qemu-system-x86_64 -bios that loads and enters the
                       guest in its mode as kvmlab's loader does; prints the command line that runs it under QEMU

        Options:
          --mode real|protected|long   which variant (default: the guest's own)
          --qemu-bios                  export a QEMU firmware image instead of the flat bytes
          --machine pc|q35             the board the printed QEMU command line gives (default pc)
        """;

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var a = Arguments.Parse(args, ["qemu-bios"], ["mode", "machine"]);
        var p = a.Positionals;
        if (p.Count == 0) return List(a);
        return p[0] switch
        {
            "show" when p.Count == 2 => Show(GuestSource.Named(p[1]), a),
            "export" when p.Count == 3 => Export(GuestSource.Named(p[1]), p[2], a),
            "show" => throw new UsageException("usage: kvmlab guests show NAME"),
            "export" => throw new UsageException("usage: kvmlab guests export NAME FILE [--qemu-bios]"),
            _ => throw new UsageException($"unknown sub-command '{p[0]}'; use show or export"),
        };
    }

    private static int List(Arguments a)
    {
        if (a.Has("mode") || a.Has("qemu-bios")) throw new UsageException("--mode and --qemu-bios apply to show and export");
        var table = new Table { Border = TableBorder.Simple };
        table.AddColumn(new TableColumn("guest").NoWrap());
        table.AddColumn(new TableColumn("modes").NoWrap());
        table.AddColumn(new TableColumn("board").NoWrap());
        table.AddColumn("summary");
        foreach (var g in GuestLibrary.All)
        {
            var modes = g.Modes.OrderBy(m => m != g.DefaultMode).Select(m => m.ToString().ToLowerInvariant());
            table.AddRow(Markup.Escape(g.Name), string.Join(", ", modes), g.Board ?? "any", Markup.Escape(g.Summary));
        }
        StatTables.ConsoleFor(Console.Out, Console.IsOutputRedirected).Write(table);
        Console.Out.WriteLine("Run one with: kvmlab run NAME   Details: kvmlab guests show NAME");
        return 0;
    }

    private static int Show(Guest guest, Arguments a)
    {
        if (a.Has("qemu-bios")) throw new UsageException("--qemu-bios applies to export");
        var image = Build(guest, a);
        var w = Console.Out;
        w.WriteLine($"{guest.Name}: {guest.Summary}");
        w.WriteLine();
        w.WriteLine(guest.Doc.TrimEnd());
        w.WriteLine();
        w.WriteLine($"Image: {image.Bytes.Length} bytes, {image.Mode.ToString().ToLowerInvariant()} mode, loaded at 0x{image.LoadAddress:x}, entry 0x{image.Entry:x}");
        w.WriteLine($"Modes: {string.Join(", ", guest.Modes.Select(m => m.ToString().ToLowerInvariant()))} (default {guest.DefaultMode.ToString().ToLowerInvariant()})");
        w.WriteLine();
        // Decoding runs on from the entry through any data the code carries (strings); a disassembler cannot tell
        // them apart, and showing everything is what lets a reader find the bytes a trace points at.
        // In real mode the loader sets CS to the load address / 16, so the listing shows IP (what a trace's RIP
        // holds); in the flat modes linear and physical addresses are equal.
        var offset = image.Entry - image.LoadAddress;
        var ip = image.Mode == CpuMode.Real ? offset : image.Entry;
        if (image.Mode == CpuMode.Real) w.WriteLine($"CS = 0x{image.LoadAddress >> 4:x4}: addresses below are IP, as a trace's RIP shows them");
        var listing = TrapDisassembler.Disassemble(image.Bytes.AsSpan((int)offset), ip, image.Mode, int.MaxValue);
        var width = image.Mode == CpuMode.Real ? 4 : 8;
        foreach (var i in listing)
            w.WriteLine($"{i.Ip.ToString("x" + width)}  {Convert.ToHexString(i.Bytes).ToLowerInvariant(),-20}  {i.Text}");
        return 0;
    }

    private static int Export(Guest guest, string file, Arguments a)
    {
        var image = Build(guest, a);
        var bios = a.Has("qemu-bios");
        byte[] bytes;
        try
        {
            bytes = bios ? GuestExport.ToQemuBios(image) : GuestExport.ToFlat(image);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        File.WriteAllBytes(file, bytes);
        var mode = image.Mode.ToString().ToLowerInvariant();
        Console.Out.WriteLine($"wrote {file}: {bytes.Length} bytes ({(bios ? "QEMU firmware image" : "flat image")}, {guest.Name}, {mode} mode)");
        if (bios)
        {
            // The same machine kvmlab builds: the board's machine type and devices, no defaults, 16 MiB, COM1, isa-debug-exit.
            var board = GuestSession.Board(a, image);
            var accel = image.Mode == CpuMode.Real ? "kvm" : "tcg";
            Console.Out.WriteLine("Run it under QEMU (exit status (V << 1) | 1 as with kvmlab run; serial on stdout):");
            Console.Out.WriteLine(
                $"  qemu-system-x86_64 -accel {accel} -nodefaults -m {PcLayout.DefaultRamSize >> 20} -display none -nic none -serial stdio -no-reboot " +
                $"-device isa-debug-exit,iobase=0x{PcLayout.IsaDebugExitPort:x},iosize={PcLayout.IsaDebugExitSize} " +
                $"{string.Join(" ", board.QemuArguments())} -bios {Quote(file)}");
        }
        else
        {
            Console.Out.WriteLine($"Run it with: kvmlab run {Quote(file)} --mode {mode} --load-address 0x{image.LoadAddress:x}");
            Console.Out.WriteLine("For QEMU, export with --qemu-bios: QEMU has no loader that puts a flat image in RAM and enters it in this mode.");
        }
        return 0;
    }

    private static GuestImage Build(Guest guest, Arguments a)
    {
        try
        {
            return guest.Build(GuestSource.ParseMode(a.Get("mode")));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static string Quote(string path) => path.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$') ? $"'{path.Replace("'", "'\\''", StringComparison.Ordinal)}'" : path;
}
