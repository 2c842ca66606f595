using System.Buffers.Binary;
using KvmLab.Guests;
using KvmLab.Loading;

namespace KvmLab.Cli;

/// <summary>
/// Built-in guests as built bytes on disk, so that a second <c>kvmlab run hello</c> starts from an image file as QEMU
/// does instead of assembling it again (assembling costs about as much as the rest of the start-up). Entries are keyed
/// by the guest library's build identity, so a rebuilt KvmLab.Guests never serves stale code. Any cache failure falls
/// back to building: the cache can only make a run faster, never different.
/// </summary>
internal static class GuestImageCache
{
    private const int HeaderBytes = 24;

    /// <summary>Where entries live: $XDG_CACHE_HOME/kvmlab/guests, else ~/.cache/kvmlab/guests (KVMLAB_CACHE overrides).</summary>
    public static string Directory
    {
        get
        {
            var overridden = Environment.GetEnvironmentVariable("KVMLAB_CACHE");
            if (!string.IsNullOrEmpty(overridden)) return overridden;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
            return Path.Combine(root, "kvmlab", "guests");
        }
    }

    /// <summary>The image of <paramref name="guest"/> in <paramref name="mode"/> (its default when null), from the cache when possible.</summary>
    public static GuestImage Get(Guest guest, CpuMode? mode)
    {
        var m = mode ?? guest.DefaultMode;
        var path = Path.Combine(Directory, $"{guest.Name}-{m.ToString().ToLowerInvariant()}-{typeof(Guest).Assembly.ManifestModule.ModuleVersionId:N}.img");
        if (TryRead(path, guest.Name, m) is { } cached) return cached with { Board = guest.Board };
        var image = guest.Build(m);
        TryWrite(path, image);
        return image;
    }

    private static GuestImage? TryRead(string path, string name, CpuMode mode)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var data = File.ReadAllBytes(path);
            if (data.Length <= HeaderBytes) return null;
            var load = BinaryPrimitives.ReadUInt64LittleEndian(data);
            var entry = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(8));
            var length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(16));
            if (length != data.Length - HeaderBytes) return null;
            return new GuestImage(name, data[HeaderBytes..], load, entry, mode);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWrite(string path, GuestImage image)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var data = new byte[HeaderBytes + image.Bytes.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(data, image.LoadAddress);
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8), image.Entry);
            BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(16), image.Bytes.Length);
            image.Bytes.CopyTo(data, HeaderBytes);
            // Write then rename, so a concurrent run never reads half an entry.
            var temp = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temp, data);
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
