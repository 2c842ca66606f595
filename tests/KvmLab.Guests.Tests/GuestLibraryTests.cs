using KvmLab.Loading;

namespace KvmLab.Guests.Tests;

public class GuestLibraryTests
{
    public static TheoryData<string, CpuMode> EveryGuestInEveryMode()
    {
        var data = new TheoryData<string, CpuMode>();
        foreach (var guest in GuestLibrary.All)
            foreach (var mode in guest.Modes)
                data.Add(guest.Name, mode);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryGuestInEveryMode))]
    public void Every_guest_assembles_in_each_of_its_modes_into_an_image_the_firmware_export_accepts(string name, CpuMode mode)
    {
        var image = GuestLibrary.Get(name).Build(mode);

        Assert.Equal(mode, image.Mode);
        Assert.NotEmpty(image.Bytes);
        Assert.True(image.LoadAddress >= PcLayout.LoaderAreaEnd);
        Assert.Equal(GuestExport.BiosSize, GuestExport.ToQemuBios(image).Length);
    }

    [Fact]
    public void Library_lists_every_lesson_of_the_course_once_with_its_documentation()
    {
        string[] expected = ["hello", "pio-vs-mmio", "pci-scan", "pci-scan-ecam", "pcie-scan", "config-dump", "edu", "edu-irq", "edu-dma", "modes", "bar-loop", "bar-move", "virtio-rng", "in-kernel"];

        Assert.Equal(expected, GuestLibrary.All.Select(g => g.Name));
        Assert.All(GuestLibrary.All, g =>
        {
            Assert.False(string.IsNullOrWhiteSpace(g.Summary));
            Assert.True(g.Doc.Length > 100, g.Name);
            Assert.Contains(g.DefaultMode, g.Modes);
        });
    }

    [Fact]
    public void Hello_builds_in_all_three_modes()
    {
        Assert.Equal([CpuMode.Real, CpuMode.Protected, CpuMode.Long], GuestLibrary.Get("hello").Modes);
    }

    [Fact]
    public void Asking_for_an_unknown_guest_names_the_ones_that_exist()
    {
        var e = Assert.Throws<ArgumentException>(() => GuestLibrary.Get("nope"));
        Assert.Contains("hello", e.Message);
    }

    [Fact]
    public void Building_a_guest_in_a_mode_it_does_not_support_is_refused()
    {
        Assert.Throws<ArgumentException>(() => GuestLibrary.Get("edu").Build(CpuMode.Real));
    }

    [Fact]
    public void Real_mode_images_are_assembled_relative_to_their_segment_and_copy_cs_into_ds()
    {
        var image = HelloGuest.Build(CpuMode.Real);

        // push cs; pop ds; push cs; pop es: data is reached through CS's segment wherever the image is loaded.
        Assert.Equal(new byte[] { 0x0E, 0x1F, 0x0E, 0x07 }, image.Bytes[..4]);
        Assert.Equal(PcLayout.DefaultRealModeLoadAddress, image.LoadAddress);
    }

    [Fact]
    public void Firmware_image_has_a_far_jump_at_the_reset_vector_and_the_payload_at_offset_zero()
    {
        var image = HelloGuest.Build(CpuMode.Long);
        var rom = GuestExport.ToQemuBios(image);

        Assert.Equal(0xEA, rom[0xFFF0]);
        Assert.Equal(0xF000, BitConverter.ToUInt16(rom, 0xFFF3));
        Assert.Equal(image.Bytes, rom[..image.Bytes.Length]);
        Assert.Equal(image.Bytes, GuestExport.ToFlat(image));
    }

    [QemuFact]
    public void Modes_prints_a_banner_in_real_protected_and_long_mode_under_qemu()
    {
        var run = GuestQemu.Run(ModesGuest.Build(CpuMode.Real));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Equal(
            "modes: real mode, CS=0x1000\nmodes: protected mode, CR0=0x60000011\nmodes: long mode, EFER=0x00000500\n" + ModesGuest.FinalLine + "\n",
            run.SerialText);
    }

    [QemuFact]
    public void Bar_loop_reads_back_the_inverse_of_its_last_write_from_the_device_under_qemu()
    {
        var run = GuestQemu.Run(BarLoopGuest.Build(CpuMode.Protected, 100));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Contains("bar-loop: 100 writes to 0xE0000004\n", run.SerialText);
        Assert.Contains("read back 0xFFFFFFFE\n", run.SerialText);
    }

    [QemuFact]
    public void Pio_vs_mmio_completes_both_write_loops_under_qemu()
    {
        var run = GuestQemu.Run(PioVsMmioGuest.Build(CpuMode.Long, 100));

        Assert.True(run.ExitCode == (GuestAssembler.ExitSuccess << 1 | 1), run.ToString());
        Assert.Contains("pio-vs-mmio: 100 port writes\npio-vs-mmio: 100 MMIO writes\n" + PioVsMmioGuest.FinalLine + "\n", run.SerialText);
    }

    [Fact]
    public void The_library_readme_lists_every_guest_with_its_board()
    {
        var readme = File.ReadAllText(Path.Combine(KvmLab.Testing.Repository.Root, "guests", "README.md"));
        Assert.All(GuestLibrary.All, g => Assert.Contains($"| `{g.Name}` | {g.Board ?? "any"} |", readme));
    }
}
