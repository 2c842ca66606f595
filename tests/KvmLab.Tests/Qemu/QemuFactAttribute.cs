using KvmLab.Qemu;

namespace KvmLab.Tests.Qemu;

/// <summary>
/// A fact that runs the installed qemu-system-x86_64. Skipped where QEMU is missing, and FAILS there when
/// KVMLAB_REQUIRE_QEMU=1, so a machine that promises QEMU cannot pass these tests by skipping them.
/// </summary>
public sealed class QemuFactAttribute : FactAttribute
{
    public QemuFactAttribute()
    {
        if (QemuRunner.TryFindQemu() is null && Environment.GetEnvironmentVariable("KVMLAB_REQUIRE_QEMU") != "1")
            Skip = "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86); set KVMLAB_REQUIRE_QEMU=1 to make this a failure.";
    }
}
