using KvmLab.Loading;

namespace KvmLab.Cli;

/// <summary>
/// What <c>run</c> and <c>stat</c> share: the machine options they accept, building the machine with the image
/// loaded (a loader complaint becomes a usage error naming the problem), run limits and Ctrl+C.
/// </summary>
internal static class GuestSession
{
    /// <summary>Valued options of the run limits.</summary>
    public static readonly string[] LimitOptions = ["max-exits", "timeout", "machine"];

    /// <summary>Help lines for the image, machine and limit options.</summary>
    public const string Help =
        """
          --mode real|protected|long   CPU mode (built-in guests: their default; image files: real)
          --load-address A             where an image file is loaded and entered (default 0x10000 in real mode,
                                       0x100000 in protected and long mode)
          --max-exits N                stop after N KVM exits
          --timeout T                  stop after T of wall time (500ms, 2s, 1m; 0 for none; default 10s)
          --no-irqchip                 no in-kernel PIC/IOAPIC/LAPIC: HLT then returns KVM_EXIT_HLT to kvmlab
          --machine pc|q35             the board (default pc): pc is QEMU's -M pc (i440FX, conf1 only); q35 is
                                       -M q35 (MCH with PCIEXBAR ECAM, ICH9, a PCI Express root port)
        """;

    /// <summary>The board --machine names, else the one <paramref name="image"/> was written for, else pc.</summary>
    /// <exception cref="UsageException">No board has that name.</exception>
    public static Boards.Board Board(Arguments args, GuestImage? image = null)
    {
        try
        {
            return Boards.Board.ByName(args.Get("machine") ?? image?.Board ?? "pc");
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--machine: {e.Message}");
        }
    }

    /// <summary>Builds a machine with <paramref name="image"/> loaded.</summary>
    /// <exception cref="UsageException">The loader rejected the image (too large, overlaps the loader area, ...).</exception>
    public static Machine Boot(GuestImage image, Arguments args, TextWriter? serialEcho)
    {
        var machine = new Machine(new MachineOptions { Board = Board(args, image), InKernelIrqchip = !args.Has("no-irqchip"), SerialEcho = serialEcho });
        try
        {
            machine.Load(image);
            return machine;
        }
        catch (ArgumentException e)
        {
            machine.Dispose();
            throw new UsageException($"cannot load '{image.Name}' at 0x{image.LoadAddress:x} ({image.Bytes.Length} bytes, {image.Mode} mode): {e.Message}");
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>Run options from --max-exits and --timeout, cancelled by Ctrl+C through <paramref name="cancel"/>.</summary>
    public static RunOptions Limits(Arguments args, CancellationToken cancel)
    {
        var timeout = args.GetDuration("timeout", TimeSpan.FromSeconds(10));
        return new RunOptions
        {
            MaxExits = (long)Math.Min(args.GetNumber("max-exits", 0), long.MaxValue),
            Timeout = timeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : timeout,
            Cancellation = cancel,
        };
    }

    /// <summary>A token cancelled by the first Ctrl+C (the run then ends as Cancelled instead of killing the process).</summary>
    public static CancellationTokenSource CancelOnCtrlC()
    {
        var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (cts.IsCancellationRequested) return;
            e.Cancel = true;
            cts.Cancel();
        };
        return cts;
    }

    /// <summary>"hello: IsaDebugExit status 33 after 106 exits in 3.1 ms at rip=0x10042 -> exit status 33".</summary>
    public static string Summary(GuestImage image, RunResult result, int exitCode)
    {
        var rate = result.Elapsed > TimeSpan.Zero ? $", {result.Exits / result.Elapsed.TotalSeconds:N0} exits/s" : "";
        return $"kvmlab: {image.Name} ({image.Mode.ToString().ToLowerInvariant()} mode at 0x{image.LoadAddress:x}): {result}{rate} -> exit status {exitCode}";
    }
}
