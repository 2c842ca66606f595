using System.Diagnostics;
using KvmLab.Boards;
using KvmLab.Devices;
using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Memory;
using KvmLab.Pci;
using KvmLab.Tracing;

namespace KvmLab;

/// <summary>
/// A complete KvmLab machine: a VM with one vCPU and RAM, the "io" and "memory" address spaces, the board's devices
/// (<see cref="MachineOptions.Board"/>: the PCI host with conf1, and ECAM on q35, edu, pci-testdev and the rest, COM1
/// and isa-debug-exit), a device clock, and the trace every exit is recorded in. <see cref="Step"/> and <see cref="Run(RunOptions?)"/> (in RunLoop.cs) are the kvm_cpu_exec analogue.
/// </summary>
[KvmLab.Notebooks.TypeFormatterSource(KvmLab.Notebooks.TypeFormatterSourceAttribute.KvmLabSource)]
public sealed partial class Machine : IDisposable
{
    private readonly List<(EventFd EventFd, IoEventFdRequest Request)> _ioEventFds = new();
    private readonly List<GuestMemory> _extraRam = new();
    private readonly List<(EventFd EventFd, IoEventFdRequest Request, Devices.Virtio.VirtioPci Device)> _deviceEventFds = new();
    private IoEventFdWatcher? _watcher;
    private bool _disposed;
    private KernelStats? _kernelStats;

    /// <summary>Builds a machine (opens /dev/kvm, creates the VM, vCPU, RAM and devices).</summary>
    /// <exception cref="KvmException">The host cannot provide KVM (the message says how to fix it).</exception>
    /// <exception cref="ArgumentException">Invalid options, e.g. a RAM size that is not a multiple of 4 KiB.</exception>
    public Machine(MachineOptions? options = null) : this(options ?? new MachineOptions(), detachedVcpu: null)
    {
    }

    // detachedVcpu: a machine without /dev/kvm around a vCPU whose kvm_run is plain memory (see CreateDetached).
    private Machine(MachineOptions options, Vcpu? detachedVcpu)
    {
        Options = options;
        ValidateOptions(Options);
        // A machine without KVM has no guest debugging to ask KVM about.
        Debugger = new MachineDebugger(this, supportsGuestDebug: detachedVcpu is null ? null : false);
        Kvm = detachedVcpu is null ? new KvmSystem() : null!;
        try
        {
            if (detachedVcpu is null)
            {
                Vm = Kvm.CreateVm();
                if (Options.InKernelIrqchip)
                {
                    Vm.CreateIrqchip();
                    Vm.CreatePit2();
                }
                Vm.SetIdentityMapAddress();
                Vm.SetTssAddress();
                Ram = Vm.AllocateGuestMemory(0, Options.RamSize);
                Vcpu = Vm.CreateVcpu(0);
            }
            else
            {
                Ram = GuestMemory.Allocate(0, Options.RamSize);
                Vcpu = detachedVcpu;
            }

            Io = AddressSpace.CreateIo();
            Memory = AddressSpace.CreateMemory();
            Clock = new DeviceClock();
            Clock.DeadlineChanged += OnClockDeadlineChanged;
            Interrupts = new VmInterruptSink(Vm, Options.InKernelIrqchip) { MsiSent = RecordMsi };
            var dma = new RamDma(Ram);

            Board = new BoardWiring(Options.EffectiveBoard, Io, Memory, Interrupts, dma, new BoardContext(Clock, Options));
            Pci = Board.Pci;
            Serial = Board.Serial;
            IsaDebugExit = Board.IsaDebugExit;
            Edu = Board.Device<Edu>();
            PciTestdev = Board.Device<PciTestdev>();
            if (PciTestdev is not null && Options.UseIoEventFd) PciTestdev.TestChanged += SyncIoEventFds;
            foreach (var virtio in Board.Devices.Values.OfType<Devices.Virtio.VirtioPci>()) virtio.EventFdsChanged += SyncDeviceEventFds;

            Trace = new ExitTrace("machine");
            if (Options.TraceCapacity > 0) Trace.Reserve(Options.TraceCapacity);
            _recorder = new TraceRecorder(Trace, Options.Tracing, Io.Root);
            _epoch = Stopwatch.GetTimestamp();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Builds a machine with <paramref name="options"/> (default: the board the image names, see
    /// <see cref="GuestImage.Board"/>) and loads <paramref name="image"/> into it.</summary>
    public static Machine Boot(GuestImage image, MachineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var machine = new Machine(options ?? MachineOptions.For(image));
        try
        {
            machine.Load(image);
            return machine;
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>The options this machine was built with.</summary>
    public MachineOptions Options { get; }

    /// <summary>/dev/kvm.</summary>
    internal KvmSystem Kvm { get; }

    /// <summary>The VM (KVM_CREATE_VM).</summary>
    public Vm Vm { get; } = null!;

    /// <summary>The kernel's counters for this machine's vCPU and VM (KVM_GET_STATS_FD): snapshots and deltas of what
    /// KVM did inside the kernel, including the exits that never reached KvmLab.</summary>
    public KernelStats KernelStats => _kernelStats ??= new KernelStats(this);

    /// <summary>vCPU 0 (KVM_CREATE_VCPU).</summary>
    public Vcpu Vcpu { get; } = null!;

    /// <summary>Guest RAM at guest-physical 0, in memory slot 0: accesses here never leave the guest.</summary>
    public GuestMemory Ram { get; } = null!;

    /// <summary>The port address space (QEMU: address_space_io).</summary>
    public AddressSpace Io { get; } = null!;

    /// <summary>The MMIO address space: what is NOT RAM (QEMU: address_space_memory's I/O regions).</summary>
    public AddressSpace Memory { get; } = null!;

    /// <summary>The board as built: which devices sit where (<see cref="MachineOptions.Board"/>).</summary>
    public BoardWiring Board { get; } = null!;

    /// <summary>PCI host: conf1 at 0xCF8/0xCFC, on q35 the ECAM window PCIEXBAR places, the root bus.</summary>
    public PciHost Pci { get; } = null!;

    /// <summary>COM1 at 0x3F8.</summary>
    internal Serial16550 Serial { get; } = null!;

    /// <summary>isa-debug-exit at 0x501.</summary>
    internal IsaDebugExit IsaDebugExit { get; } = null!;

    /// <summary>edu (00:02.0 on both boards), or null when left out.</summary>
    public Edu? Edu { get; }

    /// <summary>pci-testdev at 00:03.0, or null when left out.</summary>
    public PciTestdev? PciTestdev { get; }

    /// <summary>Timers of asynchronous device work (edu's factorial and DMA), pumped by the run loop.</summary>
    public DeviceClock Clock { get; } = null!;

    /// <summary>Where device interrupts go (KVM_IRQ_LINE / KVM_SIGNAL_MSI) and how many were sent.</summary>
    public VmInterruptSink Interrupts { get; } = null!;

    /// <summary>Every exit of every run so far.</summary>
    public ExitTrace Trace { get; } = null!;

    // Writes the run loop's records into Trace: interning of regions, the last record, MSIs held during a dispatch.
    private readonly TraceRecorder _recorder = null!;

    /// <summary>Single-stepping, breakpoints and watchpoints of this machine's vCPU (KVM_SET_GUEST_DEBUG); runs stop at
    /// them with <see cref="StopReason.Debug"/>.</summary>
    public MachineDebugger Debugger { get; }

    /// <summary>The image loaded last, or null.</summary>
    public GuestImage? Image { get; private set; }

    /// <summary>Everything the guest wrote to COM1.</summary>
    public string SerialOutput => Serial.Transcript;

    /// <summary>Writes the ioeventfds registered for pci-testdev completed in the kernel (read from their counters).</summary>
    public ulong IoEventFdSignals
    {
        get
        {
            foreach (var (fd, _) in _ioEventFds) _ioEventFdSignals += fd.ReadCounter();
            return _ioEventFdSignals;
        }
    }

    private ulong _ioEventFdSignals;

    /// <summary>Copies <paramref name="image"/> into RAM and sets the vCPU registers for its mode (see <see cref="GuestLoader"/>).</summary>
    public void Load(GuestImage image)
    {
        ThrowIfDisposed();
        GuestLoader.Load(Vm, Ram, Vcpu, image);
        Image = image;
        Debugger.Reset();
        Trace.Clear();
        Trace.Name = image.Name;
    }

    /// <summary>
    /// Backs <paramref name="size"/> bytes at <paramref name="guestPhysicalAddress"/> with RAM in a new memory slot.
    /// Guest accesses there stop exiting: mapped over a device BAR, the device stops seeing them. This is the
    /// experiment that shows why KVM returns to user space: only addresses no slot backs trap.
    /// </summary>
    public GuestMemory MapRam(ulong guestPhysicalAddress, ulong size)
    {
        ThrowIfDisposed();
        var ram = Vm.AllocateGuestMemory(guestPhysicalAddress, size);
        _extraRam.Add(ram);
        return ram;
    }

    /// <summary>
    /// Registers a coalesced-MMIO zone (KVM_REGISTER_COALESCED_MMIO): guest writes there are queued by KVM in a ring
    /// and replayed by the run loop at the next exit (traced with <see cref="ExitFlags.Coalesced"/>), as QEMU's
    /// kvm_flush_coalesced_mmio_buffer does.
    /// </summary>
    public void AddCoalescedMmio(ulong guestPhysicalAddress, uint size)
    {
        ThrowIfDisposed();
        Vm.RegisterCoalescedMmio(guestPhysicalAddress, size);
        _coalesced = true;
    }

    /// <summary>The current ioeventfds (pci-testdev's active test with <see cref="MachineOptions.UseIoEventFd"/>).</summary>
    public IReadOnlyList<IoEventFdRequest> IoEventFds => _ioEventFds.Select(e => e.Request).ToList();

    /// <summary>QEMU-style <c>info mtree</c> of both address spaces plus the RAM memory slots.</summary>
    public string DescribeMemoryMap()
    {
        var slots = string.Join("\n", Vm.MemorySlots.Select(s => $"  slot {s.Slot}: RAM {MemoryRegion.FormatRange(s.GuestPhysicalAddress, s.Size)}"));
        return $"memory slots (KVM_SET_USER_MEMORY_REGION: never exit):\n{slots}\n\n{Memory.Describe()}\n{Io.Describe()}";
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var image = Image is null ? "no guest" : $"guest '{Image.Name}' ({Image.Mode} mode, {Image.Bytes.Length} bytes at 0x{Image.LoadAddress:x})";
        return $"Machine: {Options.RamSize >> 20} MiB RAM, {image}, {Trace.Count} exits traced";
    }

    /// <summary>Releases the vCPU, VM, RAM and every mapping now.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _kicker?.Dispose();
        _watcher?.Dispose();
        foreach (var (fd, _, _) in _deviceEventFds) fd.Dispose();
        _kernelStats?.Dispose();
        foreach (var (fd, _) in _ioEventFds) fd.Dispose();
        Vm?.Dispose();
        foreach (var ram in _extraRam) ram.Dispose();
        if (Vm is null)
        {
            // A detached machine owns its vCPU and RAM; otherwise the VM releases them.
            Vcpu?.Dispose();
            Ram?.Dispose();
        }
        Kvm?.Dispose();
    }

    private void SyncIoEventFds(PciTestdev device)
    {
        foreach (var (fd, _) in _ioEventFds)
        {
            _ioEventFdSignals += fd.ReadCounter();
            Vm.UnregisterIoEventFd(fd);
            fd.Dispose();
        }
        _ioEventFds.Clear();
        if (device.ActiveEventFd is { } request)
        {
            var fd = Vm.RegisterIoEventFd(request.Address, (uint)request.Length, request.Space == "io", request.MatchData ? request.Data : null);
            _ioEventFds.Add((fd, request));
        }
    }

    /// <summary>Notifications of virtio queues that KVM completed through an ioeventfd, handed to the device.</summary>
    public long DeviceIoEventFdSignals => _watcher?.Signals ?? 0;

    /// <summary>Where ioeventfds serve devices' doorbells now (virtio's notify registers after DRIVER_OK).</summary>
    public IReadOnlyList<IoEventFdRequest> DeviceIoEventFds => _deviceEventFds.Select(e => e.Request).ToList();

    /// <summary>Why a device's ioeventfd could not be registered (the notify then exits to KvmLab), or null.</summary>
    public string? DeviceIoEventFdProblem { get; private set; }

    // QEMU: virtio_pci_ioeventfd_assign, called when the driver sets DRIVER_OK (and undone at reset).
    private void SyncDeviceEventFds(Devices.Virtio.VirtioPci device)
    {
        for (var i = _deviceEventFds.Count - 1; i >= 0; i--)
        {
            var (fd, _, owner) = _deviceEventFds[i];
            if (owner != device) continue;
            Vm.UnregisterIoEventFd(fd);
            fd.Dispose();
            _deviceEventFds.RemoveAt(i);
        }

        foreach (var request in device.ActiveEventFds)
        {
            try
            {
                var fd = Vm.RegisterIoEventFd(request.Address, (uint)request.Length, request.Space == "io", request.MatchData ? request.Data : null);
                _deviceEventFds.Add((fd, request, device));
            }
            catch (KvmException) when (request.Length == 0)
            {
                // A KVM without KVM_CAP_IOEVENTFD_ANY_LENGTH: QEMU then registers the doorbell for 2-byte writes
                // (virtio_pci_ioeventfd_assign without fast MMIO), the width a driver writes a queue index with.
                var twoBytes = request with { Length = 2 };
                try
                {
                    var fd = Vm.RegisterIoEventFd(twoBytes.Address, 2, isPio: false);
                    _deviceEventFds.Add((fd, twoBytes, device));
                }
                catch (KvmException e)
                {
                    DeviceIoEventFdProblem = $"{device.Name}: ioeventfd at {request} refused ({e.Message}); the notify write exits to KvmLab instead";
                }
            }
            catch (KvmException e)
            {
                DeviceIoEventFdProblem = $"{device.Name}: ioeventfd at {request} refused ({e.Message}); the notify write exits to KvmLab instead";
            }
        }

        _watcher ??= new IoEventFdWatcher(Vcpu);
        _watcher.Watch(_deviceEventFds.Select(e =>
        {
            var (dev, queue) = (e.Device, e.Device.QueueOf(e.Request));
            return new IoEventFdWatcher.Watched(e.EventFd, _ => dev.HostNotifierFired(queue));
        }).ToList());
    }

    private static void ValidateOptions(MachineOptions o)
    {
        if (o.RamSize < 1UL << 20 || o.RamSize % 4096 != 0)
            throw new ArgumentException($"RamSize 0x{o.RamSize:x} must be at least 1 MiB and a multiple of 4 KiB", nameof(o));
        if (o.RamSize > PcLayout.EcamBase)
            throw new ArgumentException(
                $"RamSize 0x{o.RamSize:x} would overlap the PCI hole that starts with q35's ECAM window {MemoryRegion.FormatRange(PcLayout.EcamBase, PcLayout.EcamSize)}; use at most 0x{PcLayout.EcamBase:x}", nameof(o));
        if (o.HaltCheckInterval <= TimeSpan.Zero)
            throw new ArgumentException("HaltCheckInterval must be positive", nameof(o));
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
