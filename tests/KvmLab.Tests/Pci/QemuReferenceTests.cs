using KvmLab.Boards;
using KvmLab.Devices;

namespace KvmLab.Tests.Pci;

/// <summary>
/// Every configuration byte and every bit the guest can change, on both boards, against QEMU 7.2 as measured by
/// tools/qemu-config-dump (Pci/Reference). Bytes that cannot match are listed in <see cref="ExpectedDifferences"/>
/// with the reason, and each listed byte must still differ: the list cannot go stale.
/// </summary>
public sealed class QemuReferenceTests
{
    /// <summary>A byte range of one function where KvmLab deliberately differs from QEMU.</summary>
    public sealed record ExpectedDifference(string Function, int Start, int Length, string Reason)
    {
        public bool Covers(string function, int offset) => function == Function && offset >= Start && offset < Start + Length;
    }

    /// <summary>What differs in the bytes a guest reads at reset.</summary>
    public static readonly ExpectedDifference[] ExpectedDifferences = [];

    /// <summary>What differs in what a guest can write: the above, and BAR0, MSI-X's exclusive 4 KiB memory BAR.</summary>
    public static readonly ExpectedDifference[] ExpectedProbeDifferences =
    [
        .. ExpectedDifferences,
    ];

    [Fact]
    public void Q35FunctionsReadAsQemuThroughConf1()
    {
        var bench = new BoardBench(Board.Q35);
        CompareDump("q35-conf1.txt", (f, at) => bench.Conf1Read(f.Bus, f.DevFn, at));
    }

    [Fact]
    public void Q35FunctionsReadAsQemuThroughEcamAllFourKilobytes()
    {
        var bench = new BoardBench(Board.Q35);
        bench.EnableEcam();
        CompareDump("q35-ecam.txt", (f, at) => bench.EcamRead(f.Bus, f.DevFn, at), skipPciExBar: true);
    }

    [Fact]
    public void PcFunctionsReadAsQemu()
    {
        var bench = new BoardBench(Board.Pc);
        CompareDump("pc-conf1.txt", (f, at) => bench.Conf1Read(f.Bus, f.DevFn, at));
    }

    [Fact]
    public void RootPortWithADeviceBehindPowersAndLightsTheSlotAsQemu()
    {
        var bench = new BoardBench(Board.Q35.Without("virtio-rng-rp1").With(new BoardDevice("edu", "edu2", 0, 0, c => new Edu(c.Clock), Bus: "rp1")));
        CompareDump("q35-rp1-edu-behind.txt", (f, at) => bench.Conf1Read(f.Bus, f.DevFn, at));
    }

    [Fact]
    public void Q35VirtioBehindTheRootPortReadsAsQemuThroughEcamAllFourKilobytes()
    {
        var bench = BoardWithBus1();
        CompareDump("q35-rp1-virtio-ecam.txt", (f, at) => bench.EcamRead(f.Bus, f.DevFn, at));
    }

    [Fact]
    public void Q35VirtioBehindTheRootPortWritableBitsAndFunctionLevelResetMatchQemusProbe()
    {
        // Writing all-ones to device control sets initiate-FLR: the function resets, which is why the probe reads the
        // error reporting enables back as 0 although they are writable.
        var bench = BoardWithBus1();
        ReplayProbe("q35-rp1-virtio-probe-ecam.txt", bench);
    }

    // The q35 board with PCIEXBAR on and rp1 given bus 1 as the dump tool's --conf1 00:01.0@18=00010100 does: at reset
    // every bridge has bus numbers 0 and nothing behind one answers.
    private static BoardBench BoardWithBus1()
    {
        var bench = new BoardBench(Board.Q35, ramSize: 128UL << 20);
        bench.EnableEcam();
        bench.Conf1Write(0, 1 << 3, KvmLab.Pci.PciBridge.PrimaryBus, 0x0001_0100);
        return bench;
    }

    [Fact]
    public void Q35WritableBitsAndSideEffectsMatchQemusProbe()
    {
        var bench = new BoardBench(Board.Q35, ramSize: 128UL << 20);
        bench.EnableEcam();
        ReplayProbe("q35-probe.txt", bench);
    }

    [Fact]
    public void RootPortExtendedSpaceWritableBitsMatchQemusProbeThroughEcam()
    {
        var bench = new BoardBench(Board.Q35, ramSize: 128UL << 20);
        bench.EnableEcam();
        ReplayProbe("q35-probe-ecam.txt", bench);
    }

    [Fact]
    public void PcWritableBitsMatchQemusProbe()
    {
        // The probe ran with -m 128: the i440FX's RAM size byte says so.
        var bench = new BoardBench(Board.Pc, ramSize: 128UL << 20);
        ReplayProbe("pc-probe.txt", bench);
    }

    // The dump tool enables PCIEXBAR before reading through ECAM, so the MCH's 0x60 reads b0000001 there.
    private static void CompareDump(string file, Func<QemuReference.Function, int, uint> read, bool skipPciExBar = false)
    {
        var differences = new List<string>();
        var seen = new HashSet<ExpectedDifference>();
        foreach (var (function, expected) in QemuReference.Dump(file))
        {
            for (int at = 0; at < expected.Length; at += 4)
            {
                uint value = read(function, at);
                for (int i = 0; i < 4; i++)
                {
                    byte actual = (byte)(value >> (i * 8));
                    if (actual == expected[at + i] || (skipPciExBar && function.DevFn == 0 && at + i == 0x60 && actual == 0x01))
                    {
                        continue;
                    }

                    Classify(ExpectedDifferences, function, at + i, $"kvmlab {actual:x2}, qemu {expected[at + i]:x2}", differences, seen);
                }
            }
        }

        Assert.True(differences.Count == 0, $"{file}: bytes that differ from QEMU 7.2:\n{string.Join("\n", differences)}");
        AssertListHonest(ExpectedDifferences, QemuReference.Dump(file).Select(d => d.Function.Name), seen, file);
    }

    // Replays the probe firmware's sequence on KvmLab: the writes have the same side effects, so every read must match.
    private static void ReplayProbe(string file, BoardBench bench)
    {
        var differences = new List<string>();
        var seen = new HashSet<ExpectedDifference>();
        var functions = new HashSet<string>();
        foreach (var line in QemuReference.Probe(file))
        {
            var f = line.Function;
            functions.Add(f.Name);
            uint reset = bench.ProbeRead(f.Bus, f.DevFn, line.Offset);
            bench.ProbeWrite(f.Bus, f.DevFn, line.Offset, uint.MaxValue);
            uint ones = bench.ProbeRead(f.Bus, f.DevFn, line.Offset);
            bench.ProbeWrite(f.Bus, f.DevFn, line.Offset, 0);
            uint zeros = bench.ProbeRead(f.Bus, f.DevFn, line.Offset);
            bench.ProbeWrite(f.Bus, f.DevFn, line.Offset, reset);
            uint restored = bench.ProbeRead(f.Bus, f.DevFn, line.Offset);
            uint[] actual = [reset, ones, zeros, restored];
            uint[] expected = [line.Reset, line.AfterOnes, line.AfterZeros, line.Restored];
            for (int i = 0; i < 4; i++)
            {
                uint lanes = 0;
                for (int step = 0; step < 4; step++)
                {
                    lanes |= actual[step] ^ expected[step];
                }

                if (((lanes >> (i * 8)) & 0xFF) != 0)
                {
                    Classify(ExpectedProbeDifferences, f, line.Offset + i,
                        $"kvmlab {string.Join(" ", actual.Select(v => v.ToString("x8")))}, qemu {string.Join(" ", expected.Select(v => v.ToString("x8")))}",
                        differences, seen);
                }
            }
        }

        Assert.True(differences.Count == 0, $"{file}: bytes whose writes behave unlike QEMU 7.2:\n{string.Join("\n", differences.Distinct())}");
        AssertListHonest(ExpectedProbeDifferences, functions, seen, file);
    }

    private static void Classify(ExpectedDifference[] list, QemuReference.Function function, int offset, string detail,
        List<string> differences, HashSet<ExpectedDifference> seen)
    {
        if (list.FirstOrDefault(d => d.Covers(function.Name, offset)) is { } known)
        {
            seen.Add(known);
            return;
        }

        differences.Add($"{function} 0x{offset:x3}: {detail}");
    }

    private static void AssertListHonest(ExpectedDifference[] list, IEnumerable<string> functions, HashSet<ExpectedDifference> seen, string file)
    {
        var stale = list.Where(d => functions.Contains(d.Function) && !seen.Contains(d)).ToList();
        Assert.True(stale.Count == 0, $"{file}: listed differences that no longer differ (remove them): {string.Join("; ", stale)}");
    }
}
