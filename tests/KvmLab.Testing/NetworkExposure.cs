using System.Globalization;
using System.Net;
using KvmLab.Fuzzing;

namespace KvmLab.Testing;

/// <summary>
/// Which sockets this process listens on, from /proc/net/{tcp,tcp6,udp,udp6} matched against the socket inodes in
/// /proc/self/fd. KvmLab itself must never listen; anything optional must bind to loopback only. A test helper: the
/// tests of the library and of the CLI hold every process to it.
/// </summary>
public static class NetworkExposure
{
    private const string TcpListen = "0A";
    private const string UdpUnconnected = "07";

    /// <summary>Listening TCP sockets and bound UDP sockets owned by this process, as "tcp 0.0.0.0:8888".</summary>
    public static IReadOnlyList<string> ListeningSockets()
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var target in OpenDescriptors.Targets())
        {
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                inodes.Add(target[8..^1]);
        }
        var found = new List<string>();
        foreach (var (file, state) in new[] { ("tcp", TcpListen), ("tcp6", TcpListen), ("udp", UdpUnconnected), ("udp6", UdpUnconnected) })
        {
            var path = $"/proc/net/{file}";
            if (!File.Exists(path))
                continue;
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[3] == state && inodes.Contains(f[9]))
                    found.Add($"{file} {Endpoint(f[1])}");
            }
        }
        return found;
    }

    /// <summary>True for an endpoint on 127.0.0.0/8 or ::1 (the only place an optional listener may bind).</summary>
    public static bool IsLoopback(string socket) =>
        socket.Contains(" 127.", StringComparison.Ordinal) || socket.Contains(" [::1]", StringComparison.Ordinal);

    // /proc/net addresses are hex in host byte order, 4-byte groups for IPv6.
    private static string Endpoint(string hex)
    {
        var parts = hex.Split(':');
        int port = int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var raw = Convert.FromHexString(parts[0]);
        for (int i = 0; i + 4 <= raw.Length; i += 4)
            Array.Reverse(raw, i, 4);
        var address = new IPAddress(raw);
        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]:{port}" : $"{address}:{port}";
    }
}
