using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Qemu;
using KvmLab.Tracing;

namespace KvmLab.Guests.Tests.Compare;

/// <summary>
/// The same guest on KvmLab and on QEMU 7.2 (-accel kvm: every guest here runs under QEMU's KVM path on this host,
/// so no test needs TCG), compared access by access over the devices both machines have.
/// </summary>
public class QemuComparisonTests
{
    private static readonly HashSet<string> SharedDevices = new(StringComparer.Ordinal)
    {
        "serial", "isa-debug-exit", "edu-mmio", "pci-testdev-mmio", "pci-testdev-portio", "ioport80",
    };

    private static QemuComparison Compare(string guest, CpuMode? mode = null) => Compare(GuestLibrary.Get(guest).Build(mode));

    private static QemuComparison Compare(GuestImage image) =>
        QemuComparison.Run(image, GuestExport.ToQemuBios(image), new QemuComparisonOptions { Timeout = TestScale.Bound(TimeSpan.FromSeconds(20)) });

    private static string Report(QemuComparison c) =>
        c + "\n" + string.Join("\n", c.Alignment.Divergences.Select(r => $"{r.Status}: {r.KvmLab} | {r.Qemu} | {r.Note}"))
        + "\nKvmLab serial:\n" + c.KvmLabSerial + "\nQEMU serial:\n" + c.Qemu.SerialText + "\nQEMU stderr:\n" + c.Qemu.StandardError;

    [CompareTheory]
    [InlineData("hello", CpuMode.Real, "serial")]
    [InlineData("hello", CpuMode.Protected, "serial")]
    [InlineData("hello", CpuMode.Long, "serial")]
    [InlineData("edu", CpuMode.Protected, "edu-mmio")]
    [InlineData("edu", CpuMode.Long, "edu-mmio")]
    [InlineData("edu-dma", CpuMode.Protected, "edu-mmio")]
    [InlineData("edu-irq", CpuMode.Long, "edu-mmio")]
    [InlineData("bar-move", CpuMode.Protected, "edu-mmio")]
    [InlineData("in-kernel", CpuMode.Protected, "ioport80")]
    [InlineData("edu-irq", CpuMode.Protected, "edu-mmio")]
    [InlineData("pio-vs-mmio", CpuMode.Protected, "pci-testdev-portio")]
    [InlineData("pio-vs-mmio", CpuMode.Protected, "pci-testdev-mmio")]
    public void Shared_device_accesses_match_qemu_access_for_access(string guest, CpuMode mode, string exercised)
    {
        var c = Compare(guest, mode);

        Assert.True(c.Agrees, Report(c));
        Assert.Equal(GuestAssembler.ExitSuccess, c.KvmLabIsaDebugExitValue);
        Assert.Equal(GuestAssembler.ExitSuccess, c.Qemu.IsaDebugExitValue);
        Assert.Equal(c.Qemu.SerialText, c.KvmLabSerial);
        var shared = c.Alignment.Rows.Where(r => SharedDevices.Contains((r.KvmLab ?? r.Qemu)!.Region)).ToList();
        // Every access to a shared device has its partner on the other side: same region, direction, address and size,
        // and the same value (a poll: the same final value).
        Assert.All(shared, r => Assert.True(r.Status is AlignmentStatus.Match or AlignmentStatus.Collapsed, $"{r.Status}: {r.KvmLab} | {r.Qemu}"));
        Assert.Contains(shared, r => r.KvmLab?.Region == exercised);
        Assert.Equal(Counts(c, exercised).KvmLab, Counts(c, exercised).Qemu);
    }

    // Poll reads are the only accesses whose number may differ; the exercised devices here are written, not polled,
    // except edu's status registers, so compare the counts of writes.
    private static (int KvmLab, int Qemu) Counts(QemuComparison c, string region) =>
        (c.Alignment.Rows.Count(r => r.KvmLab is { } k && k.Region == region && k.Access.IsWrite()),
         c.Alignment.Rows.Count(r => r.Qemu is { } q && q.Region == region && q.Access.IsWrite()));

    [CompareFact]
    public void Edu_irq_returning_with_iretd_in_protected_mode_ends_the_same_way_under_qemu_on_the_same_kvm()
    {
        // Whether IRETD in unpaged 32-bit protected mode completes is the host KVM's business: SVM and VMX execute it;
        // kvm_pvm hands it to KVM's instruction emulator, which cannot complete it (KVM_EXIT_INTERNAL_ERROR). QEMU on
        // the same KVM ends the same way, so either way it is the host, not KvmLab.
        var c = Compare(EduIrqGuest.Build(CpuMode.Protected, returnWithIret: true));

        Assert.Equal(c.KvmLabRun.Reason == StopReason.InternalError, c.Qemu.KvmInternalError);
        if (KvmBackends.Current.IsHardware())
            Assert.Equal(StopReason.IsaDebugExit, c.KvmLabRun.Reason);
        if (KvmBackends.Current == KvmBackend.Pvm)
            Assert.Equal(StopReason.InternalError, c.KvmLabRun.Reason);
        Assert.False(c.Qemu.TimedOut);
        Assert.True(c.Alignment.Agrees, Report(c));
        Assert.Equal(c.Qemu.SerialText, c.KvmLabSerial);
    }

    [CompareFact]
    public void Qemus_firmware_stub_is_the_only_thing_before_the_payload_and_is_explained()
    {
        var c = Compare("hello");

        var prologue = c.Alignment.Rows.TakeWhile(r => r.KvmLab is null).ToList();
        Assert.Equal(["pio-read port92 0x0092/1 = 0x0", "pio-write port92 0x0092/1 = 0x2"], prologue.Select(r => r.Qemu!.ToString()));
        Assert.All(prologue, r => Assert.Equal(AlignmentStatus.Explained, r.Status));
        Assert.All(prologue, r => Assert.Contains(KnownDifferences.FirmwareStub, r.Note));
    }

    [CompareFact]
    public void Pci_scan_output_differs_from_qemu_only_by_the_explained_piix_lines()
    {
        var c = Compare("pci-scan");

        Assert.True(c.Agrees, Report(c));
        Assert.DoesNotContain(c.SerialLines, l => l.Status == SerialLineStatus.Differs);
        Assert.DoesNotContain(c.SerialLines, l => l.Qemu is null);
        var extra = c.SerialLines.Where(l => l.KvmLab is null).ToList();
        Assert.Equal(
            [
                "00:01.0 8086:7000 class 060100 header 80",
                "00:01.1 8086:7010 class 010180 header 00",
                "  BAR4 io    size 0x00000010",
                "00:01.3 8086:7113 class 068000 header 00",
            ],
            extra.Select(l => l.Qemu));
        Assert.All(extra, l => Assert.Equal(SerialLineStatus.Explained, l.Status));
        Assert.Contains("PIIX3 IDE controller", extra[2].Note);
        // The only value that differs is what 00:01.0 answers; the host bridge, edu and pci-testdev read the same.
        var mismatch = Assert.Single(c.Alignment.Rows, r => r.KvmLab is not null && r.Qemu is not null && r.Status == AlignmentStatus.Explained);
        Assert.Equal((0xFFFFFFFFUL, 0x70008086UL), (mismatch.KvmLab!.Value, mismatch.Qemu!.Value));
        Assert.StartsWith("00:01.0 reg 0x00", mismatch.Note);
    }
}
