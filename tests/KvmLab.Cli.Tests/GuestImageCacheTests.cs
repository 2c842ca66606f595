using KvmLab.Testing;

namespace KvmLab.Cli.Tests;

public class GuestImageCacheTests
{
    [KvmFact]
    public void A_second_run_uses_the_cached_image_and_behaves_the_same()
    {
        using var cache = new TempDir();
        var env = new Dictionary<string, string> { ["KVMLAB_CACHE"] = cache.Path };

        var first = Kvmlab.RunWith(null, env, "run", "hello");
        var entries = Directory.GetFiles(cache.Path, "hello-real-*.img");
        var second = Kvmlab.RunWith(null, env, "run", "hello");

        Assert.Equal(33, first.ExitCode);
        Assert.Single(entries);
        Assert.Equal(first.ExitCode, second.ExitCode);
        Assert.Equal(first.Stdout, second.Stdout);
    }

    [KvmFact]
    public void A_damaged_cache_entry_is_rebuilt_not_run()
    {
        using var cache = new TempDir();
        var env = new Dictionary<string, string> { ["KVMLAB_CACHE"] = cache.Path };
        Kvmlab.RunWith(null, env, "run", "hello");
        var entry = Directory.GetFiles(cache.Path, "hello-real-*.img").Single();
        File.WriteAllBytes(entry, new byte[] { 1, 2, 3 });

        var run = Kvmlab.RunWith(null, env, "run", "hello");

        Assert.Equal(33, run.ExitCode);
        Assert.Contains("Hello from a KvmLab guest in real mode!", run.Stdout);
        Assert.True(new FileInfo(entry).Length > 3, "the damaged entry was replaced by a good one");
    }
}
