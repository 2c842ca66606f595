namespace KvmLab.Testing;

/// <summary>
/// Stress counts and wall-clock bounds for runs under software emulation. Inside tools/nested-kvm the CPU that runs
/// KVM is emulated by QEMU's TCG and everything runs about 20-30 times slower, so .ci/run sets
/// <c>KVMLAB_TEST_SLOWDOWN</c> (and prints the scaled figures): stress loops run fewer iterations and latency bounds
/// grow by the same factor. Unset (natively), every count and bound is the full one.
/// </summary>
public static class TestScale
{
    /// <summary>How much slower than native this run is taken to be (1 natively).</summary>
    public static int Slowdown { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("KVMLAB_TEST_SLOWDOWN"), out var s) && s > 1 ? s : 1;

    /// <summary><paramref name="full"/> natively; divided by <see cref="Slowdown"/>, but at least <paramref name="minimum"/>, under emulation.</summary>
    public static int Count(int full, int minimum) => Slowdown == 1 ? full : Math.Max(Math.Min(minimum, full), full / Slowdown);

    /// <summary><paramref name="bound"/> natively; multiplied by <see cref="Slowdown"/> under emulation.</summary>
    public static TimeSpan Bound(TimeSpan bound) => bound * Slowdown;
}
