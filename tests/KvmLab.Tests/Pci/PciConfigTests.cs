using KvmLab.Pci;

namespace KvmLab.Tests.Pci;

public class PciConfigTests
{
    private const int Edu = PcLayout.EduSlot;

    [Fact]
    public void Host_bridge_and_edu_identify_through_conf1_and_ecam()
    {
        var b = new PciTestBench();
        Assert.Equal(0x29C0_8086u, b.Conf1Read(0, 0, 0, 4));
        Assert.Equal(0x11E8_1234u, b.Conf1Read(Edu, 0, 0, 4));
        Assert.Equal(0x11E8_1234u, b.EcamRead(Edu, 0, 0, 4));
        Assert.Equal(0x0005_1B36u, b.EcamRead(PcLayout.PciTestdevSlot, 0, 0, 4));
        Assert.Equal(0x00FF_0010u, b.Conf1Read(Edu, 0, 0x08, 4));
        Assert.Equal(0x0600_0000u, b.Conf1Read(0, 0, 0x08, 4));
        Assert.Equal(1u, b.Conf1Read(Edu, 0, PciConfig.InterruptPin, 1));
    }

    [Fact]
    public void Pc_host_is_the_i440fx_with_conf1_only()
    {
        var b = new PciTestBench(q35: false);
        Assert.Equal(0x1237_8086u, b.Conf1Read(0, 0, 0, 4));
        Assert.Equal(0x0600_0002u, b.Conf1Read(0, 0, 0x08, 4));
        Assert.Null(b.Host.EcamRegion);
        Assert.False(b.Memory.TryFind(PciTestBench.Ecam(0, Edu, 0, 0), out _));
    }

    [Fact]
    public void Functions_report_qemus_default_subsystem_ids()
    {
        var b = new PciTestBench();
        Assert.Equal(0x1100_1AF4u, b.Conf1Read(0, 0, PciConfig.SubsystemVendorId, 4));
        Assert.Equal(0x1100_1AF4u, b.Conf1Read(Edu, 0, PciConfig.SubsystemVendorId, 4));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 1)]
    [InlineData(0, 2)]
    [InlineData(2, 2)]
    [InlineData(0, 4)]
    public void Every_size_and_lane_reads_the_matching_bytes_via_conf1_and_ecam(int lane, int size)
    {
        var b = new PciTestBench();
        uint dword = 0x11E8_1234;
        uint expected = (uint)((dword >> (lane * 8)) & (size == 4 ? uint.MaxValue : (1u << (size * 8)) - 1));
        Assert.Equal(expected, b.Conf1Read(Edu, 0, lane, size));
        Assert.Equal(expected, b.EcamRead(Edu, 0, lane, size));
    }

    [Fact]
    public void Misaligned_ecam_dword_is_split_like_qemu()
    {
        var b = new PciTestBench();
        // ECAM's ops take 1..4 aligned bytes; a dword at offset 2 becomes the device ID word and the command word.
        b.EcamWrite(Edu, 0, PciConfig.Command, 2, PciConfig.CommandIntxDisable);
        Assert.Equal(0x0400_11E8u, b.EcamRead(Edu, 0, 2, 4));
    }

    [Fact]
    public void Config_address_register_takes_only_dword_writes_and_reads_unshifted()
    {
        var b = new PciTestBench();
        b.Io.Write(0xCF8, 4, 0x8000_1000);
        b.Io.Write(0xCF8, 2, 0x1234);
        b.Io.Read(0xCF8, 4, out ulong whole);
        b.Io.Read(0xCFA, 2, out ulong word);
        Assert.Equal(0x8000_1000UL, whole);
        Assert.Equal(0x1000UL, word);
    }

    [Fact]
    public void Config_data_reads_all_ones_when_the_enable_bit_is_clear()
    {
        var b = new PciTestBench();
        b.Io.Write(0xCF8, 4, 0x0000_1000);
        b.Io.Read(0xCFC, 4, out ulong v);
        Assert.Equal(0xFFFF_FFFFUL, v);
    }

    [Fact]
    public void Absent_functions_and_other_buses_read_all_ones()
    {
        var b = new PciTestBench();
        Assert.Equal(0xFFFF_FFFFu, b.Conf1Read(0x1F, 0, 0, 4));
        Assert.Equal(0xFFFFu, b.Conf1Read(Edu, 1, 0, 2));
        Assert.Equal(0xFFFF_FFFFu, b.EcamRead(0x1F, 0, 0, 4));
        Assert.Equal(0xFFFF_FFFFu, b.EcamRead(0, 0, 0, 4, bus: 1));
    }

    [Fact]
    public void Extended_config_space_of_a_conventional_function_reads_all_ones_and_ignores_writes()
    {
        var b = new PciTestBench();
        b.EcamWrite(Edu, 0, 0x100, 4, 0x1234_5678);
        Assert.Equal(0xFFFF_FFFFu, b.EcamRead(Edu, 0, 0x100, 4));
        Assert.Equal(0xFFu, b.EcamRead(Edu, 0, 0xFFF, 1));
    }

    [Fact]
    public void Read_only_identity_bits_ignore_writes()
    {
        var b = new PciTestBench();
        b.Conf1Write(Edu, 0, 0, 4, 0xDEAD_BEEF);
        b.Conf1Write(Edu, 0, 0x08, 4, 0xFFFF_FFFF);
        b.Conf1Write(Edu, 0, PciConfig.InterruptPin, 1, 0x04);
        Assert.Equal(0x11E8_1234u, b.Conf1Read(Edu, 0, 0, 4));
        Assert.Equal(0x00FF_0010u, b.Conf1Read(Edu, 0, 0x08, 4));
        Assert.Equal(1u, b.Conf1Read(Edu, 0, PciConfig.InterruptPin, 1));
    }

    [Fact]
    public void Status_error_bits_clear_when_written_with_one_and_capability_bit_stays()
    {
        var b = new PciTestBench();
        var fn = new TestFunction(false);
        b.Host.Attach(fn, 7);
        fn.RaiseStatus(0xF900 | PciConfig.StatusCapabilityList);
        b.Conf1Write(7, 0, PciConfig.Status, 2, 0x8100);
        Assert.Equal(0x7810u, b.Conf1Read(7, 0, PciConfig.Status, 2));
        b.Conf1Write(7, 0, PciConfig.Status, 2, 0xFFFF);
        Assert.Equal((uint)PciConfig.StatusCapabilityList, b.Conf1Read(7, 0, PciConfig.Status, 2));
    }

    [Fact]
    public void Capability_list_points_at_a_64_bit_msi_capability_with_one_vector()
    {
        var b = new PciTestBench();
        uint pointer = b.Conf1Read(Edu, 0, PciConfig.CapabilityPointer, 1);
        Assert.Equal(0x40u, pointer);
        Assert.Equal(0x05u, b.Conf1Read(Edu, 0, (int)pointer, 1));
        Assert.Equal(0u, b.Conf1Read(Edu, 0, (int)pointer + 1, 1));
        Assert.Equal(0x0080u, b.Conf1Read(Edu, 0, (int)pointer + 2, 2));
    }

    [Fact]
    public void Multi_function_rules_follow_qemu()
    {
        var b = new PciTestBench();
        Assert.Throws<ArgumentException>(() => b.Host.Attach(new TestFunction(false), 5, 1));
        b.Host.Attach(new TestFunction(true), 6, 0);
        b.Host.Attach(new TestFunction(false), 6, 1);
        Assert.Equal(0x80u, b.Conf1Read(6, 0, PciConfig.HeaderType, 1));
        Assert.Equal(0xBEEFu, b.Conf1Read(6, 1, 0, 2));
        Assert.Equal(0xFFFFu, b.Conf1Read(6, 2, 0, 2));
        Assert.Equal(0u, b.Conf1Read(Edu, 0, PciConfig.HeaderType, 1));
    }

    [Fact]
    public void Config_write_running_past_0xff_is_clamped()
    {
        var b = new PciTestBench();
        b.Host.WriteConfig(0, PcLayout.EduSlot << 3, 0xFE, 4, 0xAABB_CCDD);
        Assert.Equal(0xCCDDu, b.Host.ReadConfig(0, PcLayout.EduSlot << 3, 0xFE, 4));
        Assert.Equal(0x0005_1B36u, b.Conf1Read(PcLayout.PciTestdevSlot, 0, 0, 4));
    }
}

/// <summary>A bare function for bus-topology tests.</summary>
internal sealed class TestFunction(bool multiFunction)
    : PciDevice("test-fn", 0xBEEF, 0x0001, 0, 0x00ff, 0, multiFunction)
{
    public void RaiseStatus(ushort bits) => SetStatusBits(bits);
}
