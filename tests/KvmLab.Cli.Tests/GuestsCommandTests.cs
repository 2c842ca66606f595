namespace KvmLab.Cli.Tests;

public class GuestsCommandTests
{
    [Fact]
    public void The_listing_names_every_library_guest_with_its_modes()
    {
        var r = Kvmlab.Run("guests");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var g in KvmLab.Guests.GuestLibrary.All) Assert.Contains(g.Name, r.Stdout);
        Assert.Matches(@"hello\s+real, protected, long", r.Stdout);
    }

    [Fact]
    public void Show_prints_the_lesson_and_a_listing_with_real_mode_ips()
    {
        var r = Kvmlab.Run("guests", "show", "hello");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("line-status register", r.Stdout);
        Assert.Contains("CS = 0x1000", r.Stdout);
        Assert.Matches(@"(?m)^0000  0e\s+push cs", r.Stdout);
        Assert.Contains("out dx,al", r.Stdout);
    }

    [Fact]
    public void Export_writes_the_flat_bytes_the_library_builds()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "guests", "export", "edu", "edu.bin", "--mode", "long");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(KvmLab.Guests.GuestLibrary.Get("edu").Build(KvmLab.Loading.CpuMode.Long).Bytes, File.ReadAllBytes(dir.File("edu.bin")));
        Assert.Contains("kvmlab run edu.bin --mode long --load-address 0x100000", r.Stdout);
    }

    [Fact]
    public void Export_as_qemu_bios_writes_64_KiB_and_the_qemu_command_line()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "guests", "export", "pci-scan", "scan.rom", "--qemu-bios");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0x10000, new FileInfo(dir.File("scan.rom")).Length);
        Assert.Contains("qemu-system-x86_64 -accel kvm -nodefaults", r.Stdout);
        Assert.Contains("-device isa-debug-exit,iobase=0x501,iosize=2", r.Stdout);
        Assert.Contains("-M pc -device edu,id=edu,addr=02.0", r.Stdout);
        Assert.EndsWith("-bios scan.rom", r.Stdout.Trim());
    }

    [Fact]
    public void Export_of_a_q35_guest_gives_qemu_the_q35_board()
    {
        using var dir = new TempDir();
        var r = Kvmlab.RunIn(dir.Path, "guests", "export", "pcie-scan", "scan.rom", "--qemu-bios");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("-M q35 -device pcie-root-port,id=rp1,addr=01.0,chassis=1,slot=1", r.Stdout);
        Assert.DoesNotContain("ICH9", r.Stdout);
    }

    [Fact]
    public void An_unknown_guest_or_mode_is_a_usage_error()
    {
        var guest = Kvmlab.Run("guests", "show", "nope");
        Assert.True(guest.ExitCode == 2, guest.ToString());
        Assert.Contains("no guest 'nope'", guest.Stderr);
        var mode = Kvmlab.Run("guests", "show", "modes", "--mode", "long");
        Assert.True(mode.ExitCode == 2, mode.ToString());
        Assert.Contains("Guest 'modes' is built for Real", mode.Stderr);
    }
}
