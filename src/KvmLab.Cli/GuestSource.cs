using KvmLab.Guests;
using KvmLab.Loading;

namespace KvmLab.Cli;

/// <summary>
/// Turns the GUEST|FILE argument of <c>run</c> and <c>stat</c> into a <see cref="GuestImage"/>: a name from the guest
/// library, or a path to a flat binary placed at the mode's default load address unless one is given.
/// </summary>
internal static class GuestSource
{
    /// <summary>Options both commands accept for choosing and placing a guest.</summary>
    public static readonly string[] Options = ["mode", "load-address"];

    /// <summary>Builds the image named by <paramref name="target"/>.</summary>
    /// <exception cref="UsageException">Unknown guest, missing file, bad mode, or a mode the guest has no variant for.</exception>
    public static GuestImage Resolve(string target, Arguments args)
    {
        var mode = ParseMode(args.Get("mode"));
        if (GuestLibrary.Find(target) is { } guest)
        {
            if (args.Has("load-address"))
                throw new UsageException($"--load-address applies to image files; '{guest.Name}' is a built-in guest with its own layout");
            try
            {
                return GuestImageCache.Get(guest, mode);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }
        }
        if (!File.Exists(target))
        {
            throw new UsageException(
                $"'{target}' is neither a built-in guest nor an existing file. Guests: {GuestNames}");
        }
        var m = mode ?? CpuMode.Real;
        var load = args.GetNumber("load-address", PcLayout.DefaultLoadAddress(m));
        var bytes = File.ReadAllBytes(target);
        if (bytes.Length == 0) throw new UsageException($"'{target}' is empty");
        return new GuestImage(Path.GetFileName(target), bytes, load, load, m);
    }

    /// <summary>The library guest called <paramref name="name"/>.</summary>
    /// <exception cref="UsageException">No such guest; the message lists them.</exception>
    public static Guest Named(string name) =>
        GuestLibrary.Find(name) ?? throw new UsageException($"no guest '{name}'; guests: {GuestNames}");

    private static string GuestNames => string.Join(", ", GuestLibrary.All.Select(g => g.Name));

    /// <summary>Parses real|protected|long (null when not given).</summary>
    public static CpuMode? ParseMode(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "real" => CpuMode.Real,
        "protected" or "prot" or "pm" => CpuMode.Protected,
        "long" or "64" => CpuMode.Long,
        _ => throw new UsageException($"--mode expects real, protected or long, got '{text}'"),
    };
}
