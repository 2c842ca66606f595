namespace KvmLab.Guests.Tests;

/// <summary>
/// A fact that needs qemu-system-x86_64 (the reference implementation). Without it the test is skipped on a
/// developer's machine and FAILS when KVMLAB_REQUIRE_QEMU=1, which CI sets: QEMU tests never pass by skipping.
/// </summary>
public sealed class QemuFactAttribute : FactAttribute
{
    public QemuFactAttribute()
    {
        if (QemuRunner.Executable is null && !QemuRunner.Required)
            Skip = "qemu-system-x86_64 is not on PATH; set KVMLAB_REQUIRE_QEMU=1 to make this a failure.";
    }
}

/// <summary>A theory that needs QEMU; same rules as <see cref="QemuFactAttribute"/>.</summary>
public sealed class QemuTheoryAttribute : TheoryAttribute
{
    public QemuTheoryAttribute()
    {
        if (QemuRunner.Executable is null && !QemuRunner.Required)
            Skip = "qemu-system-x86_64 is not on PATH; set KVMLAB_REQUIRE_QEMU=1 to make this a failure.";
    }
}
