using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// One virtual machine: its memory slots, in-kernel devices (irqchip, PIT), interrupt injection, ioeventfds,
/// coalesced MMIO zones and vCPUs. Disposing it disposes its vCPUs, closes the VM and then releases guest RAM it
/// mapped (RAM stays mapped until no slot refers to it, so KVM never sees a dangling host address).
/// </summary>
public sealed unsafe class Vm : IDisposable
{
    /// <summary>
    /// Where <see cref="SetTssAddress"/> puts the three pages Intel KVM needs for real-mode emulation when no
    /// address is given: just below the BIOS area at the top of 4 GiB, above the LAPIC, clear of PcLayout's windows.
    /// </summary>
    public const ulong DefaultTssAddress = 0xFEFF_D000;

    /// <summary>Where <see cref="SetIdentityMapAddress"/> puts the one-page EPT identity map by default (just below the TSS).</summary>
    public const ulong DefaultIdentityMapAddress = 0xFEFF_C000;

    private readonly KvmSystem _kvm;
    private readonly KvmFileDescriptor _fd;
    private readonly SortedDictionary<int, SlotEntry> _slots = [];
    private readonly List<Vcpu> _vcpus = [];
    private readonly List<GuestMemory> _ownedMemory = [];
    private int? _maxSlots;

    internal Vm(KvmSystem kvm, KvmFileDescriptor fd)
    {
        _kvm = kvm;
        _fd = fd;
    }

    /// <summary>The memory slots currently registered, by slot number.</summary>
    public IEnumerable<MemorySlot> MemorySlots => _slots.Values.Select(e => e.Slot);

    /// <summary>The vCPUs created so far.</summary>
    public IReadOnlyList<Vcpu> Vcpus => _vcpus;

    /// <summary>The address given to KVM_SET_TSS_ADDR, if set.</summary>
    public ulong? TssAddress { get; private set; }

    /// <summary>The address given to KVM_SET_IDENTITY_MAP_ADDR, if set.</summary>
    public ulong? IdentityMapAddress { get; private set; }

    /// <summary>How many memory slots this VM may have (KVM_CAP_NR_MEMSLOTS, asked on the VM).</summary>
    public int MaxMemorySlots => _maxSlots ??= Math.Max(CheckExtension(KvmCapability.MemorySlots), 1);

    internal KvmFileDescriptor Fd
    {
        get
        {
            ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
            return _fd;
        }
    }

    /// <summary>Asks this VM about a capability (answers can differ per VM). Wraps KVM_CHECK_EXTENSION on the VM fd.</summary>
    internal int CheckExtension(KvmCapability capability) =>
        Sys.Ioctl(Fd, KvmIoctls.KVM_CHECK_EXTENSION, (nint)capability, nameof(KvmIoctls.KVM_CHECK_EXTENSION));

    /// <summary>
    /// Opens this VM's kernel statistics (KVM_GET_STATS_FD on the VM fd: MMU and TLB counters, page counts). No root
    /// needed. Dispose the file when done; it does not keep the VM alive.
    /// </summary>
    /// <exception cref="NotSupportedException">The kernel predates binary statistics (Linux 5.14).</exception>
    public Stats.KvmStatsFile OpenStats() => Stats.KvmStatsFile.Open(Fd, CheckExtension, "VM");

    /// <summary>
    /// Maps host memory at <paramref name="hostAddress"/> into the guest as slot <paramref name="slot"/>. Address,
    /// size and host pointer must be page aligned; the range must not overlap another slot; the slot number must
    /// be free and below <see cref="MaxMemorySlots"/>. Wraps KVM_SET_USER_MEMORY_REGION.
    /// </summary>
    /// <exception cref="ArgumentException">Misaligned, empty, overlapping (naming both ranges) or out-of-range slot.</exception>
    public MemorySlot AddMemorySlot(int slot, ulong guestPhysicalAddress, ulong size, nint hostAddress, bool readOnly = false)
    {
        var added = Validate(slot, guestPhysicalAddress, size, hostAddress, readOnly);
        SetRegion(added);
        _slots.Add(slot, new SlotEntry(added, null));
        return added;
    }

    /// <summary>Deletes slot <paramref name="slot"/> (KVM_SET_USER_MEMORY_REGION with size 0); guest accesses there become MMIO.</summary>
    public void RemoveMemorySlot(int slot)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if (!_slots.TryGetValue(slot, out var entry))
            throw new ArgumentException($"Memory slot {slot} is not registered.", nameof(slot));
        SetRegion(entry.Slot with { Size = 0 });
        _slots.Remove(slot);
        if (entry.Memory is { } memory)
            _fd.Release(memory.Mapping);
    }

    /// <summary>
    /// Makes <paramref name="memory"/> visible to the guest at its <see cref="GuestMemory.GuestPhysicalAddress"/> in
    /// the lowest free slot (or <paramref name="slot"/>). The mapping stays alive until the slot is removed.
    /// </summary>
    public MemorySlot MapGuestMemory(GuestMemory memory, int? slot = null, bool readOnly = false)
    {
        ArgumentNullException.ThrowIfNull(memory);
        int number = slot ?? LowestFreeSlot();
        var added = Validate(number, memory.GuestPhysicalAddress, memory.Size, memory.HostAddress, readOnly);
        _fd.HoldUntilClosed(memory.Mapping);
        try
        {
            SetRegion(added);
        }
        catch
        {
            _fd.Release(memory.Mapping);
            throw;
        }
        _slots.Add(number, new SlotEntry(added, memory));
        return added;
    }

    /// <summary>Allocates zeroed guest RAM at <paramref name="guestPhysicalAddress"/> and maps it; the VM owns and releases it.</summary>
    public GuestMemory AllocateGuestMemory(ulong guestPhysicalAddress, ulong size)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        var memory = GuestMemory.Allocate(guestPhysicalAddress, size);
        try
        {
            MapGuestMemory(memory);
        }
        catch
        {
            memory.Dispose();
            throw;
        }
        _ownedMemory.Add(memory);
        return memory;
    }

    /// <summary>
    /// Gives KVM three pages of guest-physical space for the TSS Intel VMX needs to emulate real mode (must not
    /// overlap RAM the guest uses or MMIO). Wraps KVM_SET_TSS_ADDR.
    /// </summary>
    public void SetTssAddress(ulong address = DefaultTssAddress)
    {
        Sys.Ioctl(Fd, KvmIoctls.KVM_SET_TSS_ADDR, (nint)address, nameof(KvmIoctls.KVM_SET_TSS_ADDR));
        TssAddress = address;
    }

    /// <summary>
    /// Gives KVM one page of guest-physical space for the EPT identity page table (Intel, no unrestricted guest).
    /// Must be called before the first vCPU. Wraps KVM_SET_IDENTITY_MAP_ADDR.
    /// </summary>
    public void SetIdentityMapAddress(ulong address = DefaultIdentityMapAddress)
    {
        if (_vcpus.Count > 0)
            throw new InvalidOperationException("KVM_SET_IDENTITY_MAP_ADDR must come before the first KVM_CREATE_VCPU.");
        ulong value = address;
        Sys.Ioctl(Fd, KvmIoctls.KVM_SET_IDENTITY_MAP_ADDR, ref value, nameof(KvmIoctls.KVM_SET_IDENTITY_MAP_ADDR));
        IdentityMapAddress = address;
    }

    /// <summary>Creates the in-kernel PIC, IOAPIC and per-vCPU LAPICs; call before creating vCPUs. Wraps KVM_CREATE_IRQCHIP.</summary>
    public void CreateIrqchip() => Sys.Ioctl(Fd, KvmIoctls.KVM_CREATE_IRQCHIP, 0, nameof(KvmIoctls.KVM_CREATE_IRQCHIP));

    /// <summary>Creates the in-kernel i8254 PIT (needs the irqchip). Wraps KVM_CREATE_PIT2.</summary>
    public void CreatePit2()
    {
        var config = default(kvm_pit_config);
        Sys.Ioctl(Fd, KvmIoctls.KVM_CREATE_PIT2, ref config, nameof(KvmIoctls.KVM_CREATE_PIT2));
    }

    /// <summary>Drives interrupt line <paramref name="gsi"/> of the in-kernel irqchip high or low. Wraps KVM_IRQ_LINE.</summary>
    public void SetIrqLine(uint gsi, bool level)
    {
        var irq = new kvm_irq_level { irq = gsi, level = level ? 1u : 0u };
        Sys.Ioctl(Fd, KvmIoctls.KVM_IRQ_LINE, ref irq, nameof(KvmIoctls.KVM_IRQ_LINE));
    }

    /// <summary>
    /// Injects a message-signalled interrupt as if a device wrote <paramref name="data"/> to
    /// <paramref name="address"/> (0xFEExxxxx on x86). Returns false if the guest blocked it. Wraps KVM_SIGNAL_MSI.
    /// </summary>
    public bool SignalMsi(ulong address, uint data)
    {
        var msi = new kvm_msi { address_lo = (uint)address, address_hi = (uint)(address >> 32), data = data };
        return Sys.Ioctl(Fd, KvmIoctls.KVM_SIGNAL_MSI, ref msi, nameof(KvmIoctls.KVM_SIGNAL_MSI)) > 0;
    }

    /// <summary>
    /// Registers a new eventfd that KVM signals, instead of exiting, when the guest writes
    /// <paramref name="length"/> bytes (0 = any) to <paramref name="address"/> (a port when <paramref name="isPio"/>),
    /// optionally only when the value equals <paramref name="dataMatch"/>. Wraps KVM_IOEVENTFD.
    /// </summary>
    internal EventFd RegisterIoEventFd(ulong address, uint length, bool isPio, ulong? dataMatch = null)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if (length is not (0 or 1 or 2 or 4 or 8))
            throw new ArgumentException($"An ioeventfd length must be 0, 1, 2, 4 or 8; got {length}.", nameof(length));
        var eventFd = new EventFd();
        try
        {
            var registration = new IoEventFdRegistration(address, length, isPio, dataMatch);
            IoEventFdIoctl(eventFd, registration, deassign: false);
            eventFd.Registration = registration;
            return eventFd;
        }
        catch
        {
            eventFd.Dispose();
            throw;
        }
    }

    /// <summary>Removes the registration made by <see cref="RegisterIoEventFd"/> (KVM_IOEVENTFD with DEASSIGN); does not close the eventfd.</summary>
    internal void UnregisterIoEventFd(EventFd eventFd)
    {
        ArgumentNullException.ThrowIfNull(eventFd);
        var registration = eventFd.Registration
            ?? throw new ArgumentException("This eventfd is not registered as an ioeventfd.", nameof(eventFd));
        IoEventFdIoctl(eventFd, registration, deassign: true);
        eventFd.Registration = null;
    }

    /// <summary>
    /// Lets guest writes to <paramref name="address"/>..+<paramref name="size"/> be queued in the coalesced ring
    /// instead of exiting (reads still exit). Wraps KVM_REGISTER_COALESCED_MMIO.
    /// </summary>
    public void RegisterCoalescedMmio(ulong address, uint size, bool isPio = false)
    {
        var zone = new kvm_coalesced_mmio_zone { addr = address, size = size, pio = isPio ? 1u : 0u };
        Sys.Ioctl(Fd, KvmIoctls.KVM_REGISTER_COALESCED_MMIO, ref zone, nameof(KvmIoctls.KVM_REGISTER_COALESCED_MMIO));
    }

    /// <summary>Removes a coalesced zone. Wraps KVM_UNREGISTER_COALESCED_MMIO.</summary>
    public void UnregisterCoalescedMmio(ulong address, uint size, bool isPio = false)
    {
        var zone = new kvm_coalesced_mmio_zone { addr = address, size = size, pio = isPio ? 1u : 0u };
        Sys.Ioctl(Fd, KvmIoctls.KVM_UNREGISTER_COALESCED_MMIO, ref zone, nameof(KvmIoctls.KVM_UNREGISTER_COALESCED_MMIO));
    }

    /// <summary>Takes the oldest queued coalesced write (the ring is shared by the VM; it is read through vCPU 0's mapping).</summary>
    internal bool TryDequeueCoalesced(out CoalescedWrite write)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if (_vcpus.Count == 0)
        {
            write = default;
            return false;
        }
        return _vcpus[0].TryDequeueCoalesced(out write);
    }

    /// <summary>
    /// Creates vCPU <paramref name="id"/>, maps its kvm_run area, gives it the CPUID KVM supports (so that long
    /// mode and other features are visible to the guest), and turns on sync regs if available.
    /// Wraps KVM_CREATE_VCPU (+ KVM_SET_CPUID2).
    /// </summary>
    public Vcpu CreateVcpu(int id = 0)
    {
        int fd = Sys.Ioctl(Fd, KvmIoctls.KVM_CREATE_VCPU, id, nameof(KvmIoctls.KVM_CREATE_VCPU));
        var vcpuFd = new KvmFileDescriptor(fd);
        try
        {
            var mapping = MappedRegion.Map((ulong)_kvm.VcpuMmapSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, vcpuFd, "mmap kvm_run");
            bool syncRegs = (CheckExtension(KvmCapability.SyncRegs) & (int)KvmIoctls.KVM_SYNC_X86_REGS) != 0;
            var vcpu = new Vcpu(this, id, vcpuFd, mapping, CheckExtension(KvmCapability.CoalescedMmio), syncRegs);
            _vcpus.Add(vcpu);
            if (_kvm.CheckExtension(KvmCapability.ExtendedCpuid) != 0)
                vcpu.SetCpuid(_kvm.GetSupportedCpuid());
            return vcpu;
        }
        catch
        {
            vcpuFd.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the vCPUs, closes the VM and releases guest RAM.</summary>
    public void Dispose()
    {
        foreach (var vcpu in _vcpus)
            vcpu.Dispose();
        _vcpus.Clear();
        // Closing the VM releases the RAM its slots held (see KvmFileDescriptor.HoldUntilClosed), also when only the
        // finalizer closes it.
        _fd.Dispose();
        _slots.Clear();
        foreach (var memory in _ownedMemory)
            memory.Dispose();
        _ownedMemory.Clear();
    }

    private MemorySlot Validate(int slot, ulong guestPhysicalAddress, ulong size, nint hostAddress, bool readOnly)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        ulong page = (ulong)Environment.SystemPageSize;
        var candidate = new MemorySlot(slot, guestPhysicalAddress, size, hostAddress, readOnly);
        if (slot < 0 || slot >= MaxMemorySlots)
            throw new ArgumentOutOfRangeException(nameof(slot), $"Slot {slot} is outside 0..{MaxMemorySlots - 1} (KVM_CAP_NR_MEMSLOTS).");
        if (_slots.ContainsKey(slot))
            throw new ArgumentException($"Memory slot {slot} is already in use ({_slots[slot].Slot}).", nameof(slot));
        if (size == 0)
            throw new ArgumentException($"Memory slot {slot} at 0x{guestPhysicalAddress:X} has size 0; use RemoveMemorySlot to delete a slot.", nameof(size));
        if (guestPhysicalAddress % page != 0 || size % page != 0)
            throw new ArgumentException($"Memory slot {candidate.Range} must have page-aligned (0x{page:X}) address and size.", nameof(guestPhysicalAddress));
        if ((ulong)hostAddress % page != 0)
            throw new ArgumentException($"Host address 0x{hostAddress:X} of memory slot {candidate.Range} must be page aligned (0x{page:X}).", nameof(hostAddress));
        if (guestPhysicalAddress + size < guestPhysicalAddress)
            throw new ArgumentException($"Memory slot {candidate.Range} wraps around the address space.", nameof(size));
        foreach (var existing in _slots.Values)
        {
            if (existing.Slot.Overlaps(guestPhysicalAddress, size))
                throw new ArgumentException(
                    $"Memory slot {slot} {candidate.Range} overlaps memory slot {existing.Slot.Slot} {existing.Slot.Range}.", nameof(guestPhysicalAddress));
        }
        return candidate;
    }

    private void SetRegion(MemorySlot slot)
    {
        var region = new kvm_userspace_memory_region
        {
            slot = (uint)slot.Slot,
            flags = slot.ReadOnly ? KvmIoctls.KVM_MEM_READONLY : 0,
            guest_phys_addr = slot.GuestPhysicalAddress,
            memory_size = slot.Size,
            userspace_addr = (ulong)slot.HostAddress,
        };
        Sys.Ioctl(Fd, KvmIoctls.KVM_SET_USER_MEMORY_REGION, ref region, nameof(KvmIoctls.KVM_SET_USER_MEMORY_REGION));
    }

    private int LowestFreeSlot()
    {
        for (int i = 0; i < MaxMemorySlots; i++)
        {
            if (!_slots.ContainsKey(i))
                return i;
        }
        throw new InvalidOperationException($"All {MaxMemorySlots} memory slots (KVM_CAP_NR_MEMSLOTS) are in use.");
    }

    private void IoEventFdIoctl(EventFd eventFd, IoEventFdRegistration registration, bool deassign)
    {
        bool added = false;
        try
        {
            eventFd.Fd.DangerousAddRef(ref added);
            var request = new kvm_ioeventfd
            {
                addr = registration.Address,
                len = registration.Length,
                fd = eventFd.Fd.Number,
                datamatch = registration.DataMatch ?? 0,
                flags = (registration.IsPio ? KvmIoctls.KVM_IOEVENTFD_FLAG_PIO : 0)
                    | (registration.DataMatch is null ? 0 : KvmIoctls.KVM_IOEVENTFD_FLAG_DATAMATCH)
                    | (deassign ? KvmIoctls.KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
            };
            Sys.Ioctl(Fd, KvmIoctls.KVM_IOEVENTFD, ref request, nameof(KvmIoctls.KVM_IOEVENTFD));
        }
        finally
        {
            if (added)
                eventFd.Fd.DangerousRelease();
        }
    }

    private sealed record SlotEntry(MemorySlot Slot, GuestMemory? Memory);
}
