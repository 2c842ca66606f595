using Iced.Intel;
using KvmLab.Devices.Virtio;
using KvmLab.Loading;
using KvmLab.Pci;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>virtio-rng: a virtio 1.x driver in miniature: capabilities, feature negotiation, one split virtqueue,
/// an ioeventfd doorbell, the device's DMA and its MSI-X message.</summary>
public static class VirtioRngGuest
{
    /// <summary>PCI device ID of transitional virtio-rng-pci (0x1000 + virtio device ID 4 - 1).</summary>
    public const ushort DeviceId = 0x1005;

    /// <summary>Where the guest places BAR1, the MSI-X table and PBA (4 KiB).</summary>
    public const uint MsixBar = 0xE040_0000;

    /// <summary>Where the guest places BAR4, the 64-bit prefetchable container of the modern regions (16 KiB).</summary>
    public const uint ModernBar = 0xE080_0000;

    /// <summary>The IDT vector the MSI-X table entry carries as its message data.</summary>
    public const byte Vector = 0x50;

    /// <summary>Guest RAM holding the descriptor table, the avail (driver) and used (device) rings and the buffer.</summary>
    public const uint QueueArea = 0x8_0000;

    /// <summary>Descriptor table: 16 bytes per entry, 16-byte aligned.</summary>
    public const uint DescriptorTable = QueueArea;

    /// <summary>Avail ring: flags, idx, ring[size] (2 bytes each), 2-byte aligned.</summary>
    public const uint AvailRing = QueueArea + 0x80;

    /// <summary>Used ring: flags, idx, then (id, len) pairs of 4 bytes each, 4-byte aligned.</summary>
    public const uint UsedRing = QueueArea + 0x100;

    /// <summary>The device-writable buffer the device fills with entropy.</summary>
    public const uint Buffer = QueueArea + 0x200;

    /// <summary>Bytes the guest asks for.</summary>
    public const int BufferLength = 16;

    /// <summary>The most queue entries the guest lays its rings out for; it uses the device's maximum when smaller.</summary>
    public const int MaxQueueSize = 8;

    /// <summary>The start of the one line whose text is random: the bytes the device wrote, in hex.</summary>
    public const string RandomBytesPrefix = "virtio-rng: 16 random bytes:";

    /// <summary>The line the guest prints last on success.</summary>
    public const string FinalLine = "virtio-rng: done";

    private const int StructureSlots = VirtioPciRegisters.CapDeviceCfg + 1;

    /// <summary>The library entry.</summary>
    public static Guest Entry { get; } = new(
        "virtio-rng",
        "A virtio 1.x driver for virtio-rng-pci on q35: capabilities, features, a virtqueue, ioeventfd doorbell, DMA, MSI-X.",
        $"""
        The guest finds 1af4:1005 (virtio-rng-pci, transitional) on bus 0 through conf1, places BAR1 (MSI-X table and
        PBA) at 0x{MsixBar:X8} and BAR4 (64-bit, prefetchable: the modern registers) at 0x{ModernBar:X8}, and turns on
        memory decoding and bus mastering; the legacy I/O BAR0 stays off. Every one of these is a KVM_EXIT_IO on
        0xCF8/0xCFC. It then walks the capability list: vendor capabilities (ID 0x09) say in which BAR and at which
        offset the common, notify, ISR and device structures lie (cfg_type 1, 2, 3, 4), and the notify capability adds
        notify_off_multiplier; the guest uses only what they say. The MSI-X capability (ID 0x11) says the table is in
        BAR1; entry 0 gets address 0x{PcLayout.LocalApicBase:X8} (the BSP's local APIC) and data 0x{Vector:X2}, is
        unmasked, and MSI-X is enabled with the function mask clear. Observe: the four table writes are KVM_EXIT_MMIO
        into the "msix-table" region inside BAR1 (QEMU: msix_table_mmio_write), not configuration cycles.
        The driver start-up is MMIO to the common structure, each access an exit served by QEMU's
        virtio_pci_common_write / virtio_pci_common_read: reset (status 0, read back until 0), ACKNOWLEDGE, DRIVER,
        device features read through device_feature_select 0 and 1, only VIRTIO_F_VERSION_1 accepted, FEATURES_OK
        written and read back, queue 0 selected, its size (at most the device's maximum), queue_msix_vector 0 (read
        back: the device answers NO_VECTOR 0xFFFF when it cannot use the vector), msix_config NO_VECTOR, the ring
        addresses 0x{DescriptorTable:X8} (descriptors), 0x{AvailRing:X8} (avail), 0x{UsedRing:X8} (used), queue_enable,
        DRIVER_OK. At DRIVER_OK QEMU starts the host notifiers (virtio_pci_ioeventfd_assign: KVM_IOEVENTFD on the
        notify address, length 0 where the kernel allows any length), and KvmLab does the same.
        Then one descriptor, a {BufferLength}-byte device-writable buffer at 0x{Buffer:X8}, goes into the avail ring
        (plain RAM writes: no exit) and the guest writes the queue index to the notify address. Observe: that write
        does not exit on KvmLab nor under QEMU -accel kvm: KVM completes it in the kernel by signalling the ioeventfd,
        the VMM's thread wakes (QEMU: the host notifier, virtio_queue_host_notifier_read, then virtio_queue_notify and
        virtio-rng's handle_input), takes the buffer from the ring and asks the rng backend for entropy; the backend's
        callback (chr_read) writes the bytes into guest RAM and publishes the buffer with virtqueue_push: the device's
        DMA, no exit either. Its virtio_notify raises MSI-X vector 0 (msix_notify), which reaches KVM as
        KVM_SIGNAL_MSI, and the in-kernel local APIC wakes the guest from HLT. The handler sets a flag and acknowledges
        the local APIC with an EOI write to 0xFEE000B0 (handled in the kernel); the ISR is not read: with MSI-X the
        message itself says which queue is done. Where the host refuses an ioeventfd of length 0 the notify write
        exits as MMIO to "virtio-pci-notify-virtio-rng" and the device is served there; the guest cannot tell.
        The guest checks used idx 1, id 0 and length {BufferLength}, then prints the bytes: the only line that differs
        from run to run and from QEMU's ({RandomBytesPrefix} ...). The sleep is CLI; check; STI; HLT with the
        edu-irq handler's guard: a message taken between STI and HLT steps the return address past the HLT.
        Long mode returns with IRETQ; protected mode with POPFD; RET, as edu-irq explains.
        """,
        CpuMode.Long,
        [CpuMode.Protected, CpuMode.Long],
        Build,
        Board: "q35");

    /// <summary>Builds the guest for protected or long mode, for the q35 board.</summary>
    public static GuestImage Build(CpuMode mode)
    {
        var g = new GuestAssembler(mode);
        var a = g.Asm;
        var gateSize = g.Bitness == 64 ? 16 : 8;
        var idt = g.Reserve((Vector + 1) * gateSize);
        var idtr = g.Reserve(10);
        var interrupts = g.Reserve(4);
        var structures = g.Reserve(4 * StructureSlots);
        var multiplier = g.Reserve(4);
        var msixCapability = g.Reserve(4);
        var halt = a.CreateLabel();
        var handler = a.CreateLabel();
        var failures = new List<(Label Label, string Message)>();
        Label Failure(string message)
        {
            var label = a.CreateLabel();
            failures.Add((label, "virtio-rng: " + message));
            return label;
        }

        // Rings and buffer start zeroed, whatever the RAM held.
        a.mov(edi, QueueArea);
        a.mov(ecx, Buffer + BufferLength - QueueArea);
        a.xor(eax, eax);
        a.rep.stosb();

        FindAndMap(g, Failure($"no {VirtioPci.VendorId:x4}:{DeviceId:x4} on bus 0"));
        WalkCapabilities(g, structures, multiplier, msixCapability, Failure("no capability list"));
        foreach (var (type, name) in new[] { (VirtioPciRegisters.CapCommonCfg, "common"), (VirtioPciRegisters.CapNotifyCfg, "notify"), (VirtioPciRegisters.CapIsrCfg, "ISR") })
        {
            g.LoadAddressOf(eax, structures);
            a.cmp(__dword_ptr[g.At(eax, 4 * type)], 0);
            a.je(Failure($"no {name} structure in BAR4"));
        }
        g.LoadAddressOf(eax, msixCapability);
        a.cmp(__dword_ptr[g.At(eax)], 0);
        a.je(Failure("no MSI-X capability"));

        ProgramMsix(g, msixCapability, Failure("MSI-X table not in BAR1"));
        InstallGate(g, idt, idtr, handler, gateSize);
        InterruptGate.EnableLocalApic(g);

        var notifyAddress = g.Reserve(4);
        StartDriver(g, structures, multiplier, notifyAddress, Failure);
        Request(g, interrupts, notifyAddress, halt);
        CheckAndPrint(g, Failure);
        g.PrintLine(FinalLine);
        g.IsaDebugExit(GuestAssembler.ExitSuccess);

        EmitHandler(g, handler, halt, interrupts);
        foreach (var (label, message) in failures)
        {
            var l = label;
            a.Label(ref l);
            g.PrintLine(message);
            g.IsaDebugExit(GuestAssembler.ExitFailure);
        }
        return g.Build("virtio-rng") with { Board = "q35", RandomLinePrefixes = [RandomBytesPrefix] };
    }

    // Leaves the function's configuration address in EBP.
    private static void FindAndMap(GuestAssembler g, Label notFound)
    {
        var a = g.Asm;
        g.FindAndAnnounce(VirtioPci.VendorId, DeviceId, $"virtio-rng: {VirtioPci.VendorId:x4}:{DeviceId:x4}", notFound);
        g.WriteFunctionConfig32(PciAccessMethod.Conf1, PciConfig.Bar0 + 4 * VirtioPci.MsixBar, MsixBar);
        g.WriteFunctionConfig32(PciAccessMethod.Conf1, PciConfig.Bar0 + 4 * VirtioPci.ModernBar, ModernBar);
        g.WriteFunctionConfig32(PciAccessMethod.Conf1, PciConfig.Bar0 + 4 * (VirtioPci.ModernBar + 1), 0);
        a.lea(eax, __[ebp + PciConfig.Command]);
        g.ConfigRead32(PciAccessMethod.Conf1);
        // The status half is write-one-to-clear: write zeros there.
        a.and(eax, 0xFFFF);
        a.or(eax, GuestAssembler.CommandMemoryAndBusMaster);
        a.mov(ebx, eax);
        a.lea(eax, __[ebp + PciConfig.Command]);
        g.ConfigWrite32(PciAccessMethod.Conf1);
        g.PrintLine($"virtio-rng: BAR1 = 0x{MsixBar:X8}, BAR4/5 = 0x{(ulong)ModernBar:X16}, memory decoding and bus mastering on");
    }

    // Records the address of each virtio structure in BAR4 (slot = cfg_type), notify_off_multiplier and the MSI-X
    // capability's offset. EBP = function; EBX = the capability's first dword, ECX = its offset.
    private static void WalkCapabilities(GuestAssembler g, Label structures, Label multiplier, Label msixCapability, Label noList)
    {
        var a = g.Asm;
        var walk = a.CreateLabel();
        var done = a.CreateLabel();
        var next = a.CreateLabel();
        var notVendor = a.CreateLabel();
        var lineEnd = a.CreateLabel();

        g.BeginCapabilityWalk(PciAccessMethod.Conf1, ecx, noList, walk, done);
        a.mov(ebx, eax);
        a.cmp(al, PciConfig.CapabilityIdVendor);
        a.jne(notVendor);

        // ESI = cfg_type, EDX = bar, EDI = offset in the BAR.
        a.mov(esi, ebx);
        a.shr(esi, 24);
        a.lea(eax, __[ebp + ecx + VirtioPciRegisters.CapBar]);
        g.ConfigRead32(PciAccessMethod.Conf1);
        a.movzx(edx, al);
        a.lea(eax, __[ebp + ecx + VirtioPciRegisters.CapOffset]);
        g.ConfigRead32(PciAccessMethod.Conf1);
        a.mov(edi, eax);
        g.Print("virtio-rng: cap 0x");
        a.mov(eax, ecx);
        g.PrintHex(2);
        g.Print(": virtio cfg_type ");
        a.mov(eax, esi);
        g.PrintDecimal();
        g.Print(", BAR");
        a.mov(eax, edx);
        g.PrintDecimal();
        g.Print(" + 0x");
        a.mov(eax, edi);
        g.PrintHex(4);
        // Only structures in BAR4, the BAR the guest mapped, and of the four types it knows, are recorded.
        a.cmp(edx, VirtioPci.ModernBar);
        a.jne(lineEnd);
        a.cmp(esi, StructureSlots - 1);
        a.ja(lineEnd);
        a.test(esi, esi);
        a.jz(lineEnd);
        g.LoadAddressOf(eax, structures);
        a.lea(eax, __[eax + esi * 4]);
        a.lea(edx, __[edi + unchecked((int)ModernBar)]);
        a.mov(__dword_ptr[g.At(eax)], edx);
        a.cmp(esi, VirtioPciRegisters.CapNotifyCfg);
        a.jne(lineEnd);
        a.lea(eax, __[ebp + ecx + VirtioPciRegisters.CapExtra]);
        g.ConfigRead32(PciAccessMethod.Conf1);
        g.LoadAddressOf(edx, multiplier);
        a.mov(__dword_ptr[g.At(edx)], eax);
        g.Print(", notify_off_multiplier ");
        g.PrintDecimal();
        a.Label(ref lineEnd);
        g.PrintLine("");
        a.jmp(next);

        a.Label(ref notVendor);
        a.cmp(al, PciConfig.CapabilityIdMsix);
        a.jne(next);
        g.LoadAddressOf(eax, msixCapability);
        a.mov(__dword_ptr[g.At(eax)], ecx);
        g.Print("virtio-rng: cap 0x");
        a.mov(eax, ecx);
        g.PrintHex(2);
        g.Print(": MSI-X, ");
        // Message control bits 10:0: table size - 1.
        a.mov(eax, ebx);
        a.shr(eax, 16);
        a.and(eax, 0x7FF);
        a.inc(eax);
        g.PrintDecimal();
        g.PrintLine(" vectors");
        a.Label(ref next);
        a.movzx(ecx, bh);
        a.jmp(walk);
        a.Label(ref done);
    }

    // Table entry 0 := (0xFEE00000, Vector), unmasked; then MSI-X enable on, function mask off.
    private static void ProgramMsix(GuestAssembler g, Label msixCapability, Label notInBar1)
    {
        var a = g.Asm;
        g.LoadAddressOf(ecx, msixCapability);
        a.mov(ecx, __dword_ptr[g.At(ecx)]);
        a.lea(eax, __[ebp + ecx + 4]);
        g.ConfigRead32(PciAccessMethod.Conf1);
        a.mov(edx, eax);
        a.and(edx, 7);
        a.cmp(edx, VirtioPci.MsixBar);
        a.jne(notInBar1);
        a.and(eax, ~7);
        a.lea(edi, __[eax + unchecked((int)MsixBar)]);
        g.Print("virtio-rng: MSI-X table at 0x");
        a.mov(eax, edi);
        g.PrintHex();
        g.PrintLine("");
        a.mov(eax, (uint)PcLayout.LocalApicBase);
        g.MmioWrite(4);
        a.add(edi, 4);
        a.xor(eax, eax);
        g.MmioWrite(4);
        a.add(edi, 4);
        a.mov(eax, (uint)Vector);
        g.MmioWrite(4);
        a.add(edi, 4);
        a.xor(eax, eax);
        g.MmioWrite(4);
        a.lea(eax, __[ebp + ecx]);
        g.ConfigRead32(PciAccessMethod.Conf1);
        a.and(eax, 0xBFFF_FFFF);
        a.or(eax, unchecked((int)0x8000_0000));
        a.mov(ebx, eax);
        a.lea(eax, __[ebp + ecx]);
        g.ConfigWrite32(PciAccessMethod.Conf1);
        g.PrintLine($"virtio-rng: MSI-X entry 0: address 0x{PcLayout.LocalApicBase:X8}, data 0x{Vector:X2}, unmasked; MSI-X enabled");
    }

    private static void InstallGate(GuestAssembler g, Label idt, Label idtr, Label handler, int gateSize) =>
        InterruptGate.Install(g, idt, idtr, handler, gateSize, Vector);

    // ESI = the common structure throughout.
    private static void StartDriver(GuestAssembler g, Label structures, Label multiplier, Label notifyAddress, Func<string, Label> failure)
    {
        var a = g.Asm;
        var resetWait = a.CreateLabel();
        var sizeChosen = a.CreateLabel();
        g.LoadAddressOf(esi, structures);
        a.mov(esi, __dword_ptr[g.At(esi, 4 * VirtioPciRegisters.CapCommonCfg)]);

        CommonWrite(g, VirtioPciRegisters.CommonDeviceStatus, 1, 0);
        a.Label(ref resetWait);
        CommonRead(g, VirtioPciRegisters.CommonDeviceStatus, 1);
        a.test(eax, eax);
        a.jnz(resetWait);
        CommonWrite(g, VirtioPciRegisters.CommonDeviceStatus, 1, VirtioSpec.StatusAcknowledge);
        CommonWrite(g, VirtioPciRegisters.CommonDeviceStatus, 1, VirtioSpec.StatusAcknowledge | VirtioSpec.StatusDriver);

        CommonWrite(g, VirtioPciRegisters.CommonDeviceFeatureSelect, 4, 1);
        CommonRead(g, VirtioPciRegisters.CommonDeviceFeature, 4);
        a.mov(ebx, eax);
        CommonWrite(g, VirtioPciRegisters.CommonDeviceFeatureSelect, 4, 0);
        CommonRead(g, VirtioPciRegisters.CommonDeviceFeature, 4);
        g.Print("virtio-rng: device features 0x");
        g.Push(eax);
        a.mov(eax, ebx);
        g.PrintHex();
        g.Pop(eax);
        g.Print("_");
        g.PrintHex();
        g.PrintLine("");
        a.test(ebx, 1 << (VirtioSpec.FeatureVersion1 - 32));
        a.jz(failure("the device does not offer VIRTIO_F_VERSION_1"));
        CommonWrite(g, VirtioPciRegisters.CommonGuestFeatureSelect, 4, 0);
        CommonWrite(g, VirtioPciRegisters.CommonGuestFeature, 4, 0);
        CommonWrite(g, VirtioPciRegisters.CommonGuestFeatureSelect, 4, 1);
        CommonWrite(g, VirtioPciRegisters.CommonGuestFeature, 4, 1 << (VirtioSpec.FeatureVersion1 - 32));
        CommonWrite(g, VirtioPciRegisters.CommonDeviceStatus, 1, VirtioSpec.StatusAcknowledge | VirtioSpec.StatusDriver | VirtioSpec.StatusFeaturesOk);
        CommonRead(g, VirtioPciRegisters.CommonDeviceStatus, 1);
        a.test(eax, VirtioSpec.StatusFeaturesOk);
        a.jz(failure("FEATURES_OK did not stick"));
        g.Print("virtio-rng: driver features 0x00000001_00000000 (VERSION_1 only); status 0x");
        g.PrintHex(2);
        g.PrintLine(", FEATURES_OK kept");

        // EBX = the queue size used: the device's maximum, at most MaxQueueSize.
        CommonWrite(g, VirtioPciRegisters.CommonQueueSelect, 2, 0);
        CommonRead(g, VirtioPciRegisters.CommonQueueSize, 2);
        a.test(eax, eax);
        a.jz(failure("queue 0 does not exist"));
        a.mov(ebx, eax);
        a.cmp(ebx, MaxQueueSize);
        a.jbe(sizeChosen);
        a.mov(ebx, MaxQueueSize);
        a.Label(ref sizeChosen);
        g.Print("virtio-rng: queue 0: maximum size ");
        g.PrintDecimal();
        a.mov(eax, ebx);
        a.lea(edi, g.At(esi, VirtioPciRegisters.CommonQueueSize));
        g.MmioWrite(2);
        g.Print(", using ");
        g.PrintDecimal();
        g.PrintLine("");

        CommonWrite(g, VirtioPciRegisters.CommonQueueMsixVector, 2, 0);
        CommonRead(g, VirtioPciRegisters.CommonQueueMsixVector, 2);
        a.test(eax, eax);
        a.jnz(failure("the device refused MSI-X vector 0 for queue 0"));
        CommonWrite(g, VirtioPciRegisters.CommonMsixConfig, 2, VirtioSpec.NoVector);
        CommonWrite(g, VirtioPciRegisters.CommonQueueDescLo, 4, DescriptorTable);
        CommonWrite(g, VirtioPciRegisters.CommonQueueDescHi, 4, 0);
        CommonWrite(g, VirtioPciRegisters.CommonQueueAvailLo, 4, AvailRing);
        CommonWrite(g, VirtioPciRegisters.CommonQueueAvailHi, 4, 0);
        CommonWrite(g, VirtioPciRegisters.CommonQueueUsedLo, 4, UsedRing);
        CommonWrite(g, VirtioPciRegisters.CommonQueueUsedHi, 4, 0);
        g.PrintLine($"virtio-rng: queue 0: vector 0 (config: none), descriptors 0x{DescriptorTable:X8}, avail 0x{AvailRing:X8}, used 0x{UsedRing:X8}");

        // The doorbell: notify structure + queue_notify_off * notify_off_multiplier.
        CommonRead(g, VirtioPciRegisters.CommonQueueNotifyOff, 2);
        g.LoadAddressOf(edx, multiplier);
        a.imul(eax, __dword_ptr[g.At(edx)]);
        g.LoadAddressOf(edx, structures);
        a.add(eax, __dword_ptr[g.At(edx, 4 * VirtioPciRegisters.CapNotifyCfg)]);
        g.LoadAddressOf(edx, notifyAddress);
        a.mov(__dword_ptr[g.At(edx)], eax);
        g.Print("virtio-rng: queue 0 doorbell at 0x");
        g.PrintHex();
        g.PrintLine("");

        CommonWrite(g, VirtioPciRegisters.CommonQueueEnable, 2, 1);
        CommonWrite(g, VirtioPciRegisters.CommonDeviceStatus, 1,
            VirtioSpec.StatusAcknowledge | VirtioSpec.StatusDriver | VirtioSpec.StatusFeaturesOk | VirtioSpec.StatusDriverOk);
        g.PrintLine("virtio-rng: queue enabled, DRIVER_OK");
    }

    private static void CommonWrite(GuestAssembler g, int offset, int size, uint value)
    {
        g.Asm.lea(edi, g.At(esi, offset));
        g.Asm.mov(eax, value);
        g.MmioWrite(size);
    }

    private static void CommonRead(GuestAssembler g, int offset, int size)
    {
        g.Asm.lea(edi, g.At(esi, offset));
        g.MmioRead(size);
    }

    // One device-writable descriptor into the avail ring, the doorbell, then sleep until the handler saw the message.
    private static void Request(GuestAssembler g, Label interrupts, Label notifyAddress, Label halt)
    {
        var a = g.Asm;
        a.mov(edi, DescriptorTable);
        a.mov(__dword_ptr[g.At(edi)], Buffer);
        a.mov(__dword_ptr[g.At(edi, 4)], 0);
        a.mov(__dword_ptr[g.At(edi, 8)], BufferLength);
        a.mov(__word_ptr[g.At(edi, 12)], VirtioSpec.DescriptorWrite);
        a.mov(__word_ptr[g.At(edi, 14)], 0);
        // ring[0] = descriptor 0 before idx = 1: x86 keeps stores in order, so the device never sees idx ahead of the entry.
        a.mov(edi, AvailRing);
        a.mov(__word_ptr[g.At(edi, 4)], 0);
        a.mov(__word_ptr[g.At(edi, 2)], 1);
        g.LoadAddressOf(ecx, interrupts);
        a.mov(__dword_ptr[g.At(ecx)], 0);
        g.PrintLine($"virtio-rng: descriptor 0: {BufferLength} bytes at 0x{Buffer:X8}, device-writable; avail idx 1; notify queue 0");
        g.LoadAddressOf(edi, notifyAddress);
        a.mov(edi, __dword_ptr[g.At(edi)]);
        a.xor(eax, eax);
        g.MmioWrite(2);

        InterruptGate.SleepUntilCounted(g, halt);
    }

    private static void CheckAndPrint(GuestAssembler g, Func<string, Label> failure)
    {
        var a = g.Asm;
        var bytes = a.CreateLabel();
        a.mov(esi, UsedRing);
        a.movzx(eax, __word_ptr[g.At(esi, 2)]);
        g.Print($"virtio-rng: MSI-X vector 0x{Vector:X2} taken; used idx ");
        g.PrintDecimal();
        a.mov(ebx, eax);
        g.Print(", id ");
        a.mov(eax, __dword_ptr[g.At(esi, 4)]);
        a.mov(ecx, eax);
        g.PrintDecimal();
        g.Print(", len ");
        a.mov(eax, __dword_ptr[g.At(esi, 8)]);
        a.mov(edx, eax);
        g.PrintDecimal();
        g.PrintLine("");
        a.cmp(ebx, 1);
        a.jne(failure("the used ring holds no element"));
        a.test(ecx, ecx);
        a.jnz(failure("the used element is not descriptor 0"));
        a.cmp(edx, BufferLength);
        a.jne(failure($"the device wrote other than {BufferLength} bytes"));

        g.Print(RandomBytesPrefix);
        a.mov(esi, Buffer);
        a.mov(ecx, BufferLength);
        a.Label(ref bytes);
        g.Print(" ");
        a.movzx(eax, __byte_ptr[g.At(esi)]);
        g.PrintHex(2);
        a.inc(esi);
        a.dec(ecx);
        a.jnz(bytes);
        g.PrintLine("");
    }

    // The message itself says which queue is done: the handler only counts it.
    private static void EmitHandler(GuestAssembler g, Label handler, Label halt, Label interrupts)
    {
        InterruptGate.BeginHandler(g, handler, halt);
        InterruptGate.EndHandler(g, interrupts, returnWithIret: false);
    }
}
