using System.Text.RegularExpressions;
using KvmLab.Devices.Virtio;
using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Tracing;
using Xunit.Abstractions;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class VirtioRngOnKvmLabTests(ITestOutputHelper output)
{
    private static readonly Regex BytesLine = new($"^{Regex.Escape(VirtioRngGuest.RandomBytesPrefix)}( [0-9A-F]{{2}}){{{VirtioRngGuest.BufferLength}}}$", RegexOptions.Multiline);

    private static IReadOnlyList<ResolvedExit> Records(GuestRun run, string region) =>
        Enumerable.Range(0, run.Machine.Trace.Count).Select(run.Machine.Trace.Resolve).Where(r => r.Region == region).ToList();

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void The_driver_gets_sixteen_bytes_written_into_guest_ram_and_one_msix_message(CpuMode mode)
    {
        using var run = GuestRun.Of(VirtioRngGuest.Build(mode));

        run.AssertSucceeded();
        Assert.Matches(BytesLine, run.Serial);
        Assert.Contains($"virtio-rng: MSI-X vector 0x{VirtioRngGuest.Vector:X2} taken; used idx 1, id 0, len {VirtioRngGuest.BufferLength}\n", run.Serial);
        Assert.EndsWith(VirtioRngGuest.FinalLine + "\n", run.Serial);
        Assert.Equal(VirtioRngGuest.BufferLength, run.Machine.Board.Device<VirtioPci>()!.Device is VirtioRng rng ? rng.BytesDelivered : -1);
        // The device's DMA put into RAM exactly what the guest printed.
        var printed = BytesLine.Match(run.Serial).Value[VirtioRngGuest.RandomBytesPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(h => Convert.ToByte(h, 16)).ToArray();
        Assert.Equal(printed, run.Machine.Ram.GetSpan(VirtioRngGuest.Buffer, VirtioRngGuest.BufferLength).ToArray());
        Assert.Equal(1, run.Machine.Interrupts.MsisSent);
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void The_msix_table_writes_exit_as_mmio_into_the_msix_table_region_of_bar1(CpuMode mode)
    {
        using var run = GuestRun.Of(VirtioRngGuest.Build(mode));

        run.AssertSucceeded();
        var table = Records(run, "msix-table");
        Assert.All(table, r => Assert.Equal((ExitReason.Mmio, TraceAccess.MmioWrite), (r.Record.Reason, r.Record.Access)));
        Assert.Equal(
            [(VirtioRngGuest.MsixBar + 0x0UL, (ulong)PcLayout.LocalApicBase), (VirtioRngGuest.MsixBar + 0x4UL, 0UL),
             (VirtioRngGuest.MsixBar + 0x8UL, VirtioRngGuest.Vector), (VirtioRngGuest.MsixBar + 0xCUL, 0UL)],
            table.Select(r => (r.Record.Address, r.Record.Value)));
        // Every access to the common structure exits too: 29 of them from reset to DRIVER_OK.
        Assert.Equal(29, Records(run, "virtio-pci-common-virtio-rng").Count);
    }

    [KvmTheory]
    [InlineData(CpuMode.Protected)]
    [InlineData(CpuMode.Long)]
    public void The_notify_write_is_completed_by_the_ioeventfd_without_an_exit_where_the_host_accepts_it(CpuMode mode)
    {
        using var run = GuestRun.Of(VirtioRngGuest.Build(mode));

        run.AssertSucceeded();
        ulong doorbell = VirtioRngGuest.ModernBar + (ulong)VirtioPciRegisters.NotifyOffset;
        Assert.Contains($"virtio-rng: queue 0 doorbell at 0x{doorbell:X8}\n", run.Serial);
        var notifyExits = Enumerable.Range(0, run.Machine.Trace.Count).Select(run.Machine.Trace.Resolve)
            .Where(r => r.Record.Access == TraceAccess.MmioWrite && r.Record.Address == doorbell).ToList();
        if (run.Machine.DeviceIoEventFdProblem is null)
        {
            output.WriteLine($"ioeventfd accepted ({KvmBackends.Current}): the notify completed in the kernel, {run.Machine.DeviceIoEventFdSignals} signal, no exit");
            Assert.Equal(1, run.Machine.DeviceIoEventFdSignals);
            Assert.Empty(notifyExits);
            Assert.DoesNotContain(Records(run, "virtio-pci-notify-virtio-rng"), _ => true);
        }
        else
        {
            output.WriteLine($"ioeventfd refused ({KvmBackends.Current}): {run.Machine.DeviceIoEventFdProblem}");
            Assert.Equal(0, run.Machine.DeviceIoEventFdSignals);
            var exit = Assert.Single(notifyExits);
            Assert.Equal("virtio-pci-notify-virtio-rng", exit.Region);
            Assert.Equal(ExitReason.Mmio, exit.Record.Reason);
        }
        Assert.Equal(1, run.Machine.Interrupts.MsisSent);
    }
}
