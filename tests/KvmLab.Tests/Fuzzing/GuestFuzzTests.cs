using KvmLab.Fuzzing;
using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Tests.Fuzzing;

using Machine = KvmLab.Machine;

/// <summary>The guest fuzzer on real KVM, and the machine-reuse bugs it found.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed class GuestFuzzTests
{
    private static readonly byte[] DebugExit16 = [0xBA, 0x01, 0x05, 0xB0, 0x10, 0xEE, 0xF4]; // mov dx,0x501; mov al,0x10; out dx,al; hlt
    private static readonly byte[] DebugExit32 = [0x66, 0xBA, 0x01, 0x05, 0xB0, 0x10, 0xEE, 0xF4];

    [KvmFact]
    public void AShortFixedSeedSessionEndsEveryRunInAnOutcomeWithZeroHostFaults()
    {
        var runs = TestScale.Count(240, 24);
        // The per-run deadline grows with emulation too: at 50 ms an emulated CPU ends nearly every case in Timeout, and
        // the session would show one outcome instead of the mix it is meant to.
        var options = new GuestFuzzOptions
        {
            Seed = 1, Runs = runs, Workers = 2,
            Timeout = TestScale.Bound(new GuestFuzzOptions().Timeout),
            DeadlineSlack = TestScale.Bound(TimeSpan.FromSeconds(2)),
        };
        var report = GuestFuzzer.Run(options, new FuzzCaseGenerator(options.Modes));

        Assert.True(report.Passed, string.Join("\n", report.Faults.Take(3)));
        Assert.Equal(runs, report.Runs);
        Assert.Equal(runs, report.Outcomes.Values.Sum());
        Assert.True(report.Outcomes.Count >= 4, "outcomes: " + string.Join(", ", report.Outcomes));
        Assert.True(report.LongestRun < options.Timeout + options.DeadlineSlack);
        Assert.Empty(report.Before.LeaksIn(report.After));
    }

    [Fact]
    public void ACaseIsTheSameImageForTheSameSeedAndIndex()
    {
        var generator = new FuzzCaseGenerator([CpuMode.Real, CpuMode.Protected, CpuMode.Long]);

        var a = generator.Create(42, 1234);
        var b = generator.Create(42, 1234);
        var other = generator.Create(43, 1234);

        Assert.Equal(a.Image.Bytes, b.Image.Bytes);
        Assert.Equal(a.Image.Mode, b.Image.Mode);
        Assert.NotEqual(a.Seed, other.Seed);
    }

    [Fact]
    public void EveryKindAndModeIsGeneratedAndMutationsKeepTheTemplateShape()
    {
        var template = new GuestImage("t", DebugExit32, PcLayout.DefaultFlatLoadAddress, PcLayout.DefaultFlatLoadAddress, CpuMode.Protected);
        var generator = new FuzzCaseGenerator([CpuMode.Real, CpuMode.Protected, CpuMode.Long], [template]);

        var cases = Enumerable.Range(0, 300).Select(i => generator.Create(7, i)).ToList();

        Assert.Equal(3, cases.Select(c => c.Kind).Distinct().Count());
        Assert.Equal(3, cases.Select(c => c.Image.Mode).Distinct().Count());
        Assert.All(cases.Where(c => c.Kind == FuzzCaseKind.Mutation), c =>
        {
            Assert.Equal(template.Bytes.Length, c.Image.Bytes.Length);
            Assert.Equal(template.Entry, c.Image.Entry);
        });
    }

    [KvmFact]
    public void ARealModeGuestLoadedAfterALongModeGuestRuns()
    {
        // Found by the fuzzer: the loader kept EFER.LMA/CR4 of the previous guest and KVM_SET_SREGS refused the mix.
        using var machine = new Machine();
        machine.Load(new GuestImage("long", DebugExit32, PcLayout.DefaultFlatLoadAddress, PcLayout.DefaultFlatLoadAddress, CpuMode.Long));
        Assert.Equal(StopReason.IsaDebugExit, machine.Run(TimeSpan.FromSeconds(5)).Reason);

        machine.Load(new GuestImage("real", DebugExit16, PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real));
        var result = machine.Run(TimeSpan.FromSeconds(5));

        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        Assert.Equal(0x21UL, result.ExitStatus);
    }

    [KvmFact]
    public void AGuestLoadedAfterOneThatHaltedWithInterruptsOffRuns()
    {
        // Found by the fuzzer: the vCPU stayed in KVM_MP_STATE_HALTED, so every later guest "halted" at once.
        using var machine = new Machine();
        machine.Load(new GuestImage("cli-hlt", [0xFA, 0xF4], PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real));
        Assert.Equal(StopReason.Halted, machine.Run(TimeSpan.FromSeconds(5)).Reason);

        machine.Load(new GuestImage("exit", DebugExit16, PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real));

        Assert.Equal(StopReason.IsaDebugExit, machine.Run(TimeSpan.FromSeconds(5)).Reason);
    }
}
