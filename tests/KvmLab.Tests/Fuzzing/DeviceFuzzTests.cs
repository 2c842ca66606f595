using CsCheck;
using KvmLab.Devices;
using KvmLab.Fuzzing;
using KvmLab.Pci;

using KvmLab.Memory;

namespace KvmLab.Tests.Fuzzing;

/// <summary>The device fuzzer (no KVM): wild PIO, MMIO, configuration, BAR and DMA traffic never throws and keeps the invariants.</summary>
public sealed class DeviceFuzzTests
{
    private static readonly Gen<DeviceOperation> GenOperation =
        Gen.Select(Gen.Int[0, Enum.GetValues<DeviceOperationKind>().Length - 1], Gen.Int[0, Enum.GetValues<DeviceTarget>().Length - 1],
                Gen.OneOf(Gen.ULong[0, 0x110], Gen.ULong[0, 0x10_0000], Gen.ULong), Gen.Int[1, 8],
                Gen.OneOf(Gen.ULong[0, 0x4_1010], Gen.ULong), Gen.OneOf(Gen.ULong[0, 0x1010], Gen.ULong))
            .Select((kind, target, offset, size, value, extra) =>
                new DeviceOperation((DeviceOperationKind)kind, (DeviceTarget)target, offset, size, value, extra));

    [Fact]
    public void AFixedSeedRunOfTwentyThousandOperationsHasNoViolationAndReachesBarsAndDma()
    {
        var report = DeviceFuzzer.Run(seed: 1, operations: 20_000);

        Assert.True(report.Passed, string.Join("\n", report.Violations.Take(5)));
        Assert.Equal(20_000, report.Operations);
        Assert.True(report.BarMoves > 100, $"only {report.BarMoves} BAR moves");
        Assert.True(report.DmaCompleted > 10, $"only {report.DmaCompleted} DMA transfers were served");
        Assert.True(report.DmaRefused > 10, $"only {report.DmaRefused} DMA transfers were refused");
    }

    [Fact]
    public void The_q35_board_with_its_root_port_virtio_msix_and_ich9_functions_keeps_every_invariant()
    {
        var report = DeviceFuzzer.Run(seed: 7, operations: 20_000, KvmLab.Boards.Board.Q35);

        Assert.True(report.Passed, string.Join("\n", report.Violations.Take(5)));
        Assert.Equal(20_000, report.Operations);
        Assert.True(report.BarMoves > 100, $"only {report.BarMoves} BAR moves");
    }

    [Fact]
    public void GeneratedQ35OperationSequencesNeverThrow()
    {
        GenOperation.Array[1, 60].Sample(operations =>
        {
            using var fuzzer = new DeviceFuzzer(KvmLab.Boards.Board.Q35);
            foreach (var op in operations)
            {
                fuzzer.Execute(op);
                var violations = fuzzer.CheckInvariants();
                Assert.True(violations.Count == 0, $"{op}: {string.Join("; ", violations)}");
            }
        }, iter: 300, threads: 1, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void GeneratedOperationSequencesNeverThrowAndKeepConfigBitsBarMasksAndRamBounds()
    {
        GenOperation.Array[1, 60].Sample(operations =>
        {
            using var fuzzer = new DeviceFuzzer();
            foreach (var op in operations)
            {
                fuzzer.Execute(op);
                var violations = fuzzer.CheckInvariants();
                Assert.True(violations.Count == 0, $"{op}: {string.Join("; ", violations)}");
            }
        }, iter: 300, threads: 1, seed: "0N0XIzNsQ0O2");
    }

    [Theory]
    [InlineData(0xFD, 4, 0x00FF_FFFFu)]
    [InlineData(0xFE, 4, 0x0000_FFFFu)]
    [InlineData(0xFF, 2, 0x0000_00FFu)]
    public void AConfigAccessRunningPastRegister0xFFIsClampedInsteadOfThrowing(int register, int size, uint mask)
    {
        // Found by the device fuzzer: CONFIG_ADDRESS register 0xFD with a dword CONFIG_DATA read reached the device as
        // a 3-byte access, which threw out of the run loop.
        using var fuzzer = new DeviceFuzzer();
        fuzzer.Io.Write(PcLayout.PciConfigAddressPort, 4, 0x8000_0000u | (uint)(PcLayout.EduSlot << 11) | (uint)register);
        fuzzer.Io.Read(PcLayout.PciConfigDataPort, size, out var value);
        fuzzer.Io.Write(PcLayout.PciConfigDataPort, size, 0xFFFF_FFFF);

        Assert.Equal(0UL, value & mask);
        Assert.Empty(fuzzer.CheckInvariants());
    }

    [Theory]
    [InlineData(ulong.MaxValue - 10, 4095UL)]
    [InlineData(DeviceFuzzer.RamSize - 8, 16UL)]
    [InlineData(0x0FFF_FFF0UL, 0x800UL)]
    public void DmaToRamOutsideGuestRamIsRefusedAndRecordedAsADeviceFault(ulong destination, ulong count)
    {
        using var fuzzer = new DeviceFuzzer();
        fuzzer.Execute(new DeviceOperation(DeviceOperationKind.EduDma, DeviceTarget.Absolute, Edu.DmaBufferAddress, 3, destination, count));
        fuzzer.Execute(new DeviceOperation(DeviceOperationKind.AdvanceTime, DeviceTarget.Absolute, 0, 1, (ulong)System.Diagnostics.Stopwatch.Frequency - 1));

        Assert.Equal(1, fuzzer.Edu.DmaFaults);
        Assert.Contains("went nowhere", fuzzer.Edu.LastDmaFault);
        Assert.Empty(fuzzer.CheckInvariants());
    }

    [Fact]
    public void TheRamBoundsCheckFlagsAMemoryThatServesARangeOutsideRam()
    {
        var checkedMemory = new CheckedGuestMemory(new AlwaysServes(), 0, 0x1000);

        Assert.True(checkedMemory.TryWrite(0xFF8, new byte[16]));

        var violation = Assert.Single(checkedMemory.Violations);
        Assert.Contains("0xff8..+0x10 was served although it leaves guest RAM 0x0..+0x1000", violation);
    }

    [Fact]
    public void MovingABarWhileItIsInUseKeepsTheMappingWhereTheRegisterSays()
    {
        using var fuzzer = new DeviceFuzzer();
        fuzzer.Execute(new DeviceOperation(DeviceOperationKind.MoveBar, DeviceTarget.Absolute, 0, 3, 0xE010_0000, PciConfig.CommandMemory));
        fuzzer.Memory.Write(0xE010_0004, 4, 0x1234);
        fuzzer.Execute(new DeviceOperation(DeviceOperationKind.MoveBar, DeviceTarget.Absolute, 0, 3, 0xE020_0000, PciConfig.CommandMemory));
        fuzzer.Memory.Read(0xE020_0004, 4, out var moved);
        fuzzer.Memory.Read(0xE010_0004, 4, out var old);

        Assert.Equal(~0x1234u, (uint)moved);
        Assert.Equal(0UL, old);
        Assert.Equal(0xE020_0000UL, fuzzer.Edu.Bars[0]!.MappedAddress);
        Assert.Empty(fuzzer.CheckInvariants());
    }

    [Theory]
    [InlineData(0xFFFF_FFFFu)]
    [InlineData(34u)]
    [InlineData(33u)]
    [InlineData(12u)]
    public void AHugeEduFactorialCompletesAtOnceWithTheValueModulo2To32(uint n)
    {
        // Found by the device fuzzer: n = 0xFFFFFFFF took four billion multiplications on the run-loop thread.
        using var fuzzer = new DeviceFuzzer();
        fuzzer.Execute(new DeviceOperation(DeviceOperationKind.MoveBar, DeviceTarget.Absolute, 0, 3, 0xE000_0000, PciConfig.CommandMemory));
        fuzzer.Memory.Write(0xE000_0000 + Edu.RegFactorial, 4, n);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        fuzzer.Execute(new DeviceOperation(DeviceOperationKind.AdvanceTime, DeviceTarget.Absolute, 0, 1, (ulong)System.Diagnostics.Stopwatch.Frequency - 1));
        var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        fuzzer.Memory.Read(0xE000_0000 + Edu.RegFactorial, 4, out var value);

        var expected = System.Numerics.BigInteger.One;
        for (uint k = 2; k <= Math.Min(n, 40u); k++) expected *= k;
        Assert.Equal((ulong)(expected % (System.Numerics.BigInteger.One << 32)), value);
        Assert.True(took < TimeSpan.FromSeconds(1), $"the factorial took {took.TotalMilliseconds:F0} ms");
    }

    private sealed class AlwaysServes : IGuestPhysicalMemory
    {
        public bool TryRead(ulong gpa, Span<byte> dst) => true;

        public bool TryWrite(ulong gpa, ReadOnlySpan<byte> src) => true;
    }
}
