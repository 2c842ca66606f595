using KvmLab.Memory;
using KvmLab.Pci;
using KvmLab.Tests.Devices;

namespace KvmLab.Tests.Pci;

/// <summary>MSI-X on a tiny device with 4 vectors in an exclusive BAR0, as QEMU's msix.c behaves.</summary>
public sealed class MsixTests
{
    private const ulong Bar = 0xFEB0_0000;

    private sealed class Device : PciDevice
    {
        public Device()
            : base("msix-dev", 0x1234, 0x5678, 0, 0x00ff, 1)
        {
            InitMsixExclusiveBar(4, 0);
            for (int v = 0; v < 4; v++)
            {
                MsixVectorUse(v);
            }
        }

        public bool Fire(int vector) => NotifyMsix(vector);

        public void Unuse(int vector) => MsixVectorUnuse(vector);

        public void Reset() => ResetMsix();

        public void Raise() => SetIrq(true);
    }

    private readonly AddressSpace _memory = AddressSpace.CreateMemory();
    private readonly AddressSpace _io = AddressSpace.CreateIo();
    private readonly FakeInterruptSink _interrupts = new();
    private readonly Device _device = new();

    public MsixTests()
    {
        var host = new PciHost(_memory, _io, _interrupts, new FakeGuestMemory(4096));
        host.Attach(_device, 3, irqLine: 10);
        _device.WriteConfig(0x10, 4, (uint)Bar);
        _device.WriteConfig(0x04, 2, 0x0006);
        for (int v = 0; v < 4; v++)
        {
            _memory.Write(Bar + (ulong)(v * 16), 4, 0xFEE0_0000u + (uint)(v << 12));
            _memory.Write(Bar + (ulong)(v * 16 + 8), 4, 0x30u + (uint)v);
        }
    }

    private void Control(uint value) => _device.WriteConfig(_device.MsixCapabilityOffset + 2, 2, value);

    private void Mask(int vector, bool masked) => _memory.Write(Bar + (ulong)(vector * 16 + 12), 4, masked ? 1u : 0u);

    [Fact]
    public void Capability_has_id_table_size_bir_and_only_enable_and_function_mask_writable()
    {
        int at = _device.MsixCapabilityOffset;
        Assert.Equal(0x11u, _device.ReadConfig(at, 1));
        Assert.Equal(0x0003u, _device.ReadConfig(at + 2, 2));
        Assert.Equal(0x0000_0000u, _device.ReadConfig(at + 4, 4));
        Assert.Equal(0x0000_0800u, _device.ReadConfig(at + 8, 4));
        Control(0xFFFF);
        Assert.Equal(0xC003u, _device.ReadConfig(at + 2, 2));
        Assert.Equal(["msix-table 0x0..+0x40", "msix-pba 0x800..+0x8"],
            _device.Bars[0]!.Region.Subregions.OrderBy(r => r.Address).Select(r => r.ToString()).ToArray());
        Assert.Equal("msix-dev-msix", _device.Bars[0]!.Region.Name);
    }

    [Fact]
    public void Table_entries_start_masked_and_unmasked_vectors_send_their_message_when_enabled()
    {
        Assert.Equal(1UL, Read(Bar + 12));
        Control(0x8000);
        Assert.False(_device.Fire(2)); // still masked in its entry
        Mask(2, false);
        _interrupts.Messages.Clear(); // the unmask delivered the pending message; start counting afresh
        Assert.True(_device.Fire(2));
        Assert.Equal([(0xFEE0_2000UL, 0x32u)], _interrupts.Messages);
    }

    [Fact]
    public void A_masked_vector_sets_its_pending_bit_and_fires_on_unmask()
    {
        Control(0x8000);
        Assert.False(_device.Fire(1));
        Assert.True(_device.MsixIsPending(1));
        Assert.Equal(0b10UL, Read(Bar + 0x800));
        Assert.Empty(_interrupts.Messages);

        Mask(1, false);
        Assert.Equal([(0xFEE0_1000UL, 0x31u)], _interrupts.Messages);
        Assert.False(_device.MsixIsPending(1));
    }

    [Fact]
    public void Function_mask_holds_every_vector_and_clearing_it_delivers_the_pending_ones()
    {
        for (int v = 0; v < 4; v++)
        {
            Mask(v, false);
        }

        Control(0xC000);
        _device.Fire(0);
        _device.Fire(3);
        Assert.Empty(_interrupts.Messages);
        Control(0x8000);
        Assert.Equal([(0xFEE0_0000UL, 0x30u), (0xFEE0_3000UL, 0x33u)], _interrupts.Messages);
    }

    [Fact]
    public void Disabled_msix_only_queues_and_bus_master_off_drops_the_message()
    {
        Mask(0, false);
        Assert.False(_device.Fire(0));
        Assert.True(_device.MsixIsPending(0));

        _device.WriteConfig(0x04, 2, 0x0002);
        Control(0x8000); // unmask by enabling: pending fires, but without bus mastering the write goes nowhere
        Assert.Empty(_interrupts.Messages);
        _device.WriteConfig(0x04, 2, 0x0006);
        Assert.True(_device.Fire(0));
        Assert.Single(_interrupts.Messages);
    }

    [Fact]
    public void An_unused_vector_is_not_sent_and_unuse_clears_its_pending_bit()
    {
        Control(0x8000);
        _device.Fire(2);
        Assert.True(_device.MsixIsPending(2));
        _device.Unuse(2);
        Assert.False(_device.MsixIsPending(2));
        Mask(2, false);
        Assert.False(_device.Fire(2));
        Assert.Empty(_interrupts.Messages);
    }

    [Fact]
    public void Enabling_msix_deasserts_intx()
    {
        _device.Raise();
        Assert.True(_interrupts.Level[10]);
        Control(0x8000);
        Assert.False(_interrupts.Level[10]);
    }

    [Fact]
    public void Table_accepts_dword_and_qword_accesses_only()
    {
        Assert.Equal(AccessStatus.InvalidAccess, _memory.Write(Bar, 2, 0x1234).Status);
        Assert.Equal(0xFEE0_0000UL, Read(Bar));
        Assert.Equal(AccessStatus.Ok, _memory.Write(Bar, 8, 0x0000_0001_2345_6780UL).Status);
        _memory.Read(Bar, 8, out ulong both);
        Assert.Equal(0x0000_0001_2345_6780UL, both);
        Assert.Equal(AccessStatus.Ok, _memory.Write(Bar + 0x800, 4, 0xFF).Status);
        Assert.Equal(0UL, Read(Bar + 0x800)); // the PBA is read-only
    }

    [Fact]
    public void Reset_clears_the_table_masks_every_vector_and_turns_msix_off()
    {
        Control(0xC000);
        Mask(0, false);
        _device.Fire(0);
        _device.Reset();
        Assert.False(_device.MsixEnabled);
        Assert.Equal(0UL, Read(Bar));
        Assert.Equal(1UL, Read(Bar + 12));
        Assert.False(_device.MsixIsPending(0));
    }

    private ulong Read(ulong address)
    {
        _memory.Read(address, 4, out ulong v);
        return v;
    }
}
