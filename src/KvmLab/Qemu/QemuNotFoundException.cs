namespace KvmLab.Qemu;

/// <summary>qemu-system-x86_64 is not installed (or not where it was said to be).</summary>
public sealed class QemuNotFoundException : FileNotFoundException
{
    /// <summary>Creates the exception with the install hint.</summary>
    /// <param name="searched">Where KvmLab looked, for the message.</param>
    public QemuNotFoundException(string searched)
        : base($"qemu-system-x86_64 was not found (looked in {searched}). Install it with: apt-get install qemu-system-x86")
    {
    }
}
