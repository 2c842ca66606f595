using System.Net;
using System.Net.Sockets;
using KvmLab.Loading;
using KvmLab.Qemu;
using KvmLab.Testing;
using KvmLab.Tracing;

namespace KvmLab.Tests.Reliability;

using Machine = KvmLab.Machine;

/// <summary>Nothing KvmLab does opens a listening socket, and the QEMU reference runs with no network, monitor, VNC or gdb stub.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed class NetworkExposureTests
{
    [KvmFact]
    public void RunningAGuestAndUsingItsTraceLeavesTheProcessWithoutListeningSockets()
    {
        using (var machine = Machine.Boot(new GuestImage("exit", [0xBA, 0x01, 0x05, 0xB0, 0x10, 0xEE, 0xF4],
                   PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real)))
        {
            machine.Step();
            machine.Run(TimeSpan.FromSeconds(5));
            _ = TraceStatistics.Compute(machine.Trace, StatGrouping.Device);
            var path = Path.Combine(Path.GetTempPath(), $"kvmlab-net-{Environment.ProcessId}.json");
            TraceExport.Save(machine.Trace, path);
            File.Delete(path);
            _ = machine.DescribeMemoryMap();
        }

        Assert.Empty(NetworkExposure.ListeningSockets());
    }

    [Fact]
    public void TheSocketScanSeesAListenerOfThisProcessAndItsAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var sockets = NetworkExposure.ListeningSockets();

        var mine = Assert.Single(sockets, s => s.EndsWith($":{port}", StringComparison.Ordinal));
        Assert.Equal($"tcp 127.0.0.1:{port}", mine);
        Assert.True(NetworkExposure.IsLoopback(mine));
    }

    [Fact]
    public void TheQemuReferenceCommandLineHasNoNetworkMonitorVncOrGdbStub()
    {
        var args = QemuRunner.BuildArguments("/tmp/bios.bin", "/tmp/serial.txt", "/tmp/trace.txt", new QemuRunOptions());
        var line = string.Join(' ', args);

        Assert.Contains("-nodefaults", args);
        Assert.Contains("-nic none", line);
        Assert.Contains("-display none", line);
        foreach (var forbidden in new[] { "-netdev", "-monitor", "-qmp", "-vnc", "-spice", "-gdb", "-s", "-chardev" })
            Assert.DoesNotContain(forbidden, args);
        foreach (var fragment in new[] { "tcp:", "telnet", "socket", "udp:", "unix:" })
            Assert.DoesNotContain(fragment, line);
    }
}
