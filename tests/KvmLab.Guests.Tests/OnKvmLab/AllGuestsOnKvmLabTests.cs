using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Guests.Tests.OnKvmLab;

public class AllGuestsOnKvmLabTests
{
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
        Assert.EndsWith(" done\n", run.Serial.Replace(": verdict OK: 256 bytes came back intact\n", " done\n"));
        Assert.Equal(0, run.Exits("INTERNAL_ERROR"));
        run.AssertOnePollPerCharacter();
    }
}
