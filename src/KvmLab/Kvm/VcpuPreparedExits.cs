using System.Runtime.CompilerServices;
using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

// A vCPU whose kvm_run is plain anonymous memory rather than KVM's mapping: code fills in an exit as KVM_RUN would
// have left it, and DecodePrepared decodes it exactly as Run does after the ioctl. It lets the run loop's
// post-KVM_RUN half (decode, address-space lookup, device access, trace record) be timed and checked for
// allocations on any machine, also one without /dev/kvm, with the very code a real exit goes through.
public sealed unsafe partial class Vcpu
{
    // x86 puts port I/O data one page into the vCPU mapping (KVM_PIO_PAGE_OFFSET) and the coalesced ring two pages in
    // (KVM_COALESCED_MMIO_PAGE_OFFSET); the detached mapping has the same shape.
    private const int DetachedPioPage = 1;
    private const int DetachedCoalescedPage = 2;

    /// <summary>
    /// A vCPU over a zeroed anonymous kvm_run area of three pages (kvm_run, the port I/O data page, the coalesced ring),
    /// with sync regs on. Its descriptor is /dev/null: <see cref="Run"/> fails, exits come from the Prepare* methods.
    /// </summary>
    internal static Vcpu Detached()
    {
        int raw = Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC);
        if (raw < 0)
            throw KvmException.FromLastError("open /dev/null");
        var fd = new KvmFileDescriptor(raw);
        try
        {
            var mapping = MappedRegion.Map(3 * PageSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, null, "mmap detached kvm_run");
            return new Vcpu(null, 0, fd, mapping, DetachedCoalescedPage, syncRegs: true);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Writes a single-element KVM_EXIT_IO into kvm_run (for OUT with <paramref name="value"/> as its data).</summary>
    internal void PrepareIo(IoDirection direction, ushort port, byte size, ulong value, ulong rip)
    {
        ThrowIfDisposed();
        _run->exit_reason = (uint)ExitReason.Io;
        _run->io.direction = (byte)direction;
        _run->io.size = size;
        _run->io.port = port;
        _run->io.count = 1;
        _run->io.data_offset = DetachedPioPage * PageSize;
        Unsafe.WriteUnaligned((byte*)_run + DetachedPioPage * PageSize, value);
        _run->s.regs.rip = rip;
    }

    /// <summary>Writes a KVM_EXIT_MMIO into kvm_run.</summary>
    internal void PrepareMmio(bool isWrite, ulong address, uint length, ulong data, ulong rip)
    {
        ThrowIfDisposed();
        _run->exit_reason = (uint)ExitReason.Mmio;
        _run->mmio.phys_addr = address;
        _run->mmio.len = length;
        _run->mmio.is_write = isWrite ? (byte)1 : (byte)0;
        Unsafe.WriteUnaligned(Unsafe.AsPointer(ref _run->mmio.data[0]), data);
        _run->s.regs.rip = rip;
    }

    /// <summary>Writes a KVM_EXIT_DEBUG into kvm_run.</summary>
    internal void PrepareDebug(uint exception, ulong pc, ulong dr6, ulong dr7)
    {
        ThrowIfDisposed();
        _run->exit_reason = (uint)ExitReason.Debug;
        _run->debug.exception = exception;
        _run->debug.pc = pc;
        _run->debug.dr6 = dr6;
        _run->debug.dr7 = dr7;
    }

    /// <summary>Queues one write in the coalesced ring, as KVM does for a write into a coalesced zone.</summary>
    internal void PrepareCoalesced(ulong address, uint length, ulong data, bool isPio)
    {
        ThrowIfDisposed();
        var ring = _coalescedRing;
        uint last = ring->last;
        var entry = (kvm_coalesced_mmio*)((byte*)ring + sizeof(kvm_coalesced_mmio_ring)) + last;
        entry->phys_addr = address;
        entry->len = length;
        entry->pio = isPio ? 1u : 0u;
        Unsafe.WriteUnaligned(entry->data, data);
        Volatile.Write(ref ring->last, (last + 1) % CoalescedRingCapacity);
    }

    /// <summary>Decodes kvm_run as it stands, exactly as <see cref="Run"/> does once KVM_RUN has returned.</summary>
    internal VcpuExit DecodePrepared()
    {
        ThrowIfDisposed();
        if (_pending != PendingRead.None)
            throw PendingReadNotCompleted();
        _syncFresh = _syncRegs;
        return LastExit = Decode();
    }
}
