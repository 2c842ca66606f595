namespace KvmLab.Kvm.Interop;

/// <summary>
/// The real-time signal used to knock a thread out of KVM_RUN. Its handler is native code (one <c>ret</c> on an
/// executable page): a managed handler would run on a thread the runtime does not expect, and crashed under load.
/// SA_RESTART is off so the ioctl returns EINTR instead of being restarted. Installed once per process.
/// </summary>
internal static unsafe class StopSignal
{
    // The handler page must outlive every thread that may take the signal, so it is held for the process lifetime.
    private static readonly Lazy<(int Signal, MappedRegion HandlerPage)> Installed =
        new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The signal number (SIGRTMIN + 6, 40 with glibc), installing the handler on first use.</summary>
    public static int Number => Installed.Value.Signal;

    private static (int, MappedRegion) Install()
    {
        // The runtime claims SIGRTMIN itself; +6 stays clear of it and of glibc's two reserved signals.
        int signal = Libc.__libc_current_sigrtmin() + 6;
        var page = MappedRegion.Map((ulong)Environment.SystemPageSize, Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, null, "mmap stop-signal handler page");
        *(byte*)page.Address = 0xC3;
        if (Libc.mprotect(page.Address, (nuint)page.Length, Libc.PROT_READ | Libc.PROT_EXEC) != 0)
            throw KvmException.FromLastError("mprotect stop-signal handler page");
        var action = new Libc.sigaction_t { sa_handler = page.Address, sa_flags = 0 };
        if (Libc.sigaction(signal, in action, out _) != 0)
            throw KvmException.FromLastError($"sigaction {signal}");
        return (signal, page);
    }
}
