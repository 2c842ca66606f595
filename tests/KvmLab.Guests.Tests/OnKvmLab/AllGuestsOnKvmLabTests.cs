using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class AllGuestsOnKvmLabTests
{
    private static readonly Dictionary<string, string> FinalLines = new()
    {
        ["hello"] = HelloGuest.FinalLine,
        ["pio-vs-mmio"] = PioVsMmioGuest.FinalLine,
        ["pci-scan"] = PciScanGuest.FinalLine,
        ["pci-scan-ecam"] = PciScanGuest.FinalLine,
        ["pcie-scan"] = PcieScanGuest.FinalLine,
        ["config-dump"] = ConfigDumpGuest.FinalLine,
        ["bar-move"] = BarMoveGuest.FinalLine,
        ["edu"] = EduGuest.FinalLine,
        ["edu-irq"] = EduIrqGuest.FinalLine,
        ["edu-dma"] = $"{EduDmaGuest.VerdictOk}: {EduDmaGuest.Length} bytes came back intact",
        ["modes"] = ModesGuest.FinalLine,
        ["bar-loop"] = BarLoopGuest.FinalLine,
        ["virtio-rng"] = VirtioRngGuest.FinalLine,
        ["in-kernel"] = InKernelGuest.FinalLine,
    };

    public static TheoryData<string, CpuMode> EveryGuestInEveryMode()
    {
        var data = new TheoryData<string, CpuMode>();
        foreach (var guest in GuestLibrary.All)
            foreach (var mode in guest.Modes)
                data.Add(guest.Name, mode);
        return data;
    }

    [KvmTheory]
    [MemberData(nameof(EveryGuestInEveryMode))]
    public void Every_library_guest_runs_to_debug_exit_status_33_printing_its_final_line(string name, CpuMode mode)
    {
        using var run = GuestRun.Of(GuestLibrary.Get(name).Build(mode));

        run.AssertSucceeded();
        var lastLine = run.Serial.TrimEnd('\n').Split('\n')[^1];
        Assert.Equal(FinalLines[name], lastLine);
        Assert.Equal(0, run.Exits("INTERNAL_ERROR"));
        run.AssertOnePollPerCharacter();
    }
}
