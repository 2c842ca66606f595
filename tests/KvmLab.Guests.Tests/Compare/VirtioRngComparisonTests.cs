using KvmLab.Loading;
using KvmLab.Qemu;

namespace KvmLab.Guests.Tests.Compare;

/// <summary>virtio-rng on KvmLab's q35 and under QEMU 7.2 -M q35: every access and line agrees but the random bytes.</summary>
public class VirtioRngComparisonTests
{
    // Long mode, the lesson's own; protected mode runs under QEMU in VirtioRngGuestTests and on KvmLab in OnKvmLab.
    [CompareTheory]
    [InlineData(CpuMode.Long)]
    public void Virtio_rng_agrees_with_qemu_except_for_the_line_of_random_bytes(CpuMode mode)
    {
        var image = VirtioRngGuest.Build(mode);
        var c = QemuComparison.Run(image, GuestExport.ToQemuBios(image), new QemuComparisonOptions { Timeout = TestScale.Bound(TimeSpan.FromSeconds(20)) });
        var report = c + "\n" + c.DescribeSerial() + c.Alignment.ToTable(onlyDifferences: true);

        Assert.True(c.Agrees, report);
        Assert.Equal("q35", c.Board.Name);
        Assert.Equal(GuestAssembler.ExitSuccess, c.KvmLabIsaDebugExitValue);
        Assert.Equal(GuestAssembler.ExitSuccess, c.Qemu.IsaDebugExitValue);
        // One line differs, the bytes; the rule excuses nothing else.
        var random = Assert.Single(c.SerialLines, l => l.Status != SerialLineStatus.Same);
        Assert.Equal(SerialLineStatus.Explained, random.Status);
        Assert.StartsWith(VirtioRngGuest.RandomBytesPrefix, random.KvmLab);
        Assert.StartsWith(VirtioRngGuest.RandomBytesPrefix, random.Qemu);
        Assert.All(c.Alignment.Rows.Where(r => r.Note == KnownDifferences.RandomData),
            r => Assert.Equal(("serial", "serial"), (r.KvmLab!.Region, r.Qemu!.Region)));
        // The device's registers answer alike: the common structure and the MSI-X table, access for access.
        foreach (var region in new[] { "virtio-pci-common-virtio-rng", "msix-table" })
        {
            var rows = c.Alignment.Rows.Where(r => (r.KvmLab ?? r.Qemu)!.Region == region).ToList();
            Assert.NotEmpty(rows);
            Assert.All(rows, r => Assert.Equal(AlignmentStatus.Match, r.Status));
        }
        var table = Assert.Single(c.Alignment.Counts, n => n.Region == "msix-table");
        Assert.Equal((4, 4), (table.KvmLab, table.Qemu));
        // The message: KVM_SIGNAL_MSI on KvmLab (recorded as a write of the data to the message address), msi_notify's
        // store to the APIC's MSI region under QEMU: the same address and data on both sides, once each. The doorbell
        // completes through an ioeventfd, so each VMM sends it when its own loop gets to it: one matched row, or two
        // rows at different places among the guest's accesses, explained as that timing.
        var msis = c.Alignment.Rows.Where(r => (r.KvmLab ?? r.Qemu)!.Region == "kvm-apic-msi").ToList();
        if (msis.Count == 1)
            Assert.Equal(AlignmentStatus.Match, msis[0].Status);
        else
            Assert.All(msis, r => Assert.Equal((AlignmentStatus.Explained, KnownDifferences.MsiTiming), (r.Status, r.Note)));
        var sent = msis.Select(r => r.KvmLab).OfType<AlignedAccess>().Single();
        var stored = msis.Select(r => r.Qemu).OfType<AlignedAccess>().Single();
        Assert.Equal((0xFEE00000UL, 0x50UL), (sent.Address!.Value, sent.Value!.Value));
        Assert.Equal((sent.Address, sent.Value), (stored.Address, stored.Value));
    }
}
