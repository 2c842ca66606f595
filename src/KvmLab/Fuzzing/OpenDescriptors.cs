namespace KvmLab.Fuzzing;

/// <summary>The descriptors this process has open, as the targets of their /proc/self/fd links.</summary>
internal static class OpenDescriptors
{
    /// <summary>One target per open descriptor ("/dev/kvm", "anon_inode:kvm-vcpu:0", "socket:[1234]").</summary>
    public static IEnumerable<string?> Targets()
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(entry).LinkTarget;
            }
            catch (IOException)
            {
                // The descriptor used to list the directory is gone by the time it is looked at.
                continue;
            }
            yield return target;
        }
    }
}
