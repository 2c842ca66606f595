using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm;

/// <summary>
/// A block of guest RAM: an anonymous host mapping that appears in the guest at
/// <see cref="GuestPhysicalAddress"/>. All access is by guest-physical address and bounds-checked against this
/// block, so a wrong address can never reach host memory outside the mapping. Device models doing DMA use the
/// Try* methods, which answer false instead of throwing when a guest-chosen range falls outside.
/// </summary>
public sealed unsafe class GuestMemory : IDisposable
{
    private readonly MappedRegion _mapping;

    private GuestMemory(MappedRegion mapping, ulong guestPhysicalAddress)
    {
        _mapping = mapping;
        GuestPhysicalAddress = guestPhysicalAddress;
    }

    /// <summary>Guest-physical address of the first byte.</summary>
    public ulong GuestPhysicalAddress { get; }

    /// <summary>Size in bytes (a multiple of the page size).</summary>
    public ulong Size => _mapping.Length;

    /// <summary>Guest-physical address one past the last byte.</summary>
    public ulong End => GuestPhysicalAddress + Size;

    /// <summary>Host virtual address of the first byte, as handed to KVM_SET_USER_MEMORY_REGION.</summary>
    public nint HostAddress
    {
        get
        {
            ObjectDisposedException.ThrowIf(_mapping.IsClosed, this);
            return _mapping.Address;
        }
    }

    internal MappedRegion Mapping => _mapping;

    /// <summary>
    /// Maps <paramref name="size"/> bytes of zeroed, lazily allocated RAM for guest-physical
    /// <paramref name="guestPhysicalAddress"/> (both page aligned). It is not yet visible to any VM: see
    /// <see cref="Vm.MapGuestMemory"/>.
    /// </summary>
    public static GuestMemory Allocate(ulong guestPhysicalAddress, ulong size)
    {
        ulong page = (ulong)Environment.SystemPageSize;
        if (size == 0 || size % page != 0)
            throw new ArgumentException($"Guest RAM 0x{guestPhysicalAddress:X}..+0x{size:X}: the size must be a non-zero multiple of the page size 0x{page:X}.", nameof(size));
        if (guestPhysicalAddress % page != 0)
            throw new ArgumentException($"Guest RAM address 0x{guestPhysicalAddress:X} must be page aligned (0x{page:X}).", nameof(guestPhysicalAddress));
        if (guestPhysicalAddress + size < guestPhysicalAddress)
            throw new ArgumentException($"Guest RAM 0x{guestPhysicalAddress:X}..+0x{size:X} wraps around the address space.", nameof(size));
        var mapping = MappedRegion.Map(size, Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, null, "mmap guest RAM");
        return new GuestMemory(mapping, guestPhysicalAddress);
    }

    /// <summary>Whether <paramref name="length"/> bytes at <paramref name="gpa"/> lie entirely inside this block.</summary>
    public bool Contains(ulong gpa, ulong length) =>
        gpa >= GuestPhysicalAddress && length <= Size && gpa - GuestPhysicalAddress <= Size - length;

    /// <summary>The bytes at <paramref name="gpa"/>; throws <see cref="ArgumentOutOfRangeException"/> (naming the range) if outside.</summary>
    public Span<byte> GetSpan(ulong gpa, int length)
    {
        if (length < 0 || !Contains(gpa, (ulong)length))
            throw new ArgumentOutOfRangeException(nameof(gpa),
                $"Guest range 0x{gpa:X}..+0x{length:X} is outside guest RAM 0x{GuestPhysicalAddress:X}..+0x{Size:X}.");
        return SpanUnchecked(gpa, length);
    }

    /// <summary>Like <see cref="GetSpan"/>, but answers false (and an empty span) when the range is outside.</summary>
    public bool TryGetSpan(ulong gpa, int length, out Span<byte> span)
    {
        if (length < 0 || !Contains(gpa, (ulong)length))
        {
            span = default;
            return false;
        }
        span = SpanUnchecked(gpa, length);
        return true;
    }

    /// <summary>Reads a little-endian <typeparamref name="T"/> at <paramref name="gpa"/>; throws if outside.</summary>
    public T Read<T>(ulong gpa) where T : unmanaged => MemoryMarshal.Read<T>(GetSpan(gpa, sizeof(T)));

    /// <summary>Writes a <typeparamref name="T"/> at <paramref name="gpa"/>; throws if outside.</summary>
    public void Write<T>(ulong gpa, T value) where T : unmanaged => MemoryMarshal.Write(GetSpan(gpa, sizeof(T)), in value);

    /// <summary>Reads a <typeparamref name="T"/> at <paramref name="gpa"/>, or answers false if any byte is outside.</summary>
    public bool TryRead<T>(ulong gpa, out T value) where T : unmanaged
    {
        if (!TryGetSpan(gpa, sizeof(T), out var span))
        {
            value = default;
            return false;
        }
        value = MemoryMarshal.Read<T>(span);
        return true;
    }

    /// <summary>Writes a <typeparamref name="T"/> at <paramref name="gpa"/>, or answers false (writing nothing) if outside.</summary>
    public bool TryWrite<T>(ulong gpa, T value) where T : unmanaged
    {
        if (!TryGetSpan(gpa, sizeof(T), out var span))
            return false;
        MemoryMarshal.Write(span, in value);
        return true;
    }

    /// <summary>Copies guest bytes at <paramref name="gpa"/> into <paramref name="destination"/>, or answers false if outside.</summary>
    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        if (!TryGetSpan(gpa, destination.Length, out var span))
            return false;
        span.CopyTo(destination);
        return true;
    }

    /// <summary>Copies <paramref name="source"/> into guest RAM at <paramref name="gpa"/>, or answers false if outside.</summary>
    public bool TryWrite(ulong gpa, ReadOnlySpan<byte> source)
    {
        if (!TryGetSpan(gpa, source.Length, out var span))
            return false;
        source.CopyTo(span);
        return true;
    }

    /// <summary>Unmaps the RAM (deferred while a VM slot still references it).</summary>
    public void Dispose() => _mapping.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"guest RAM 0x{GuestPhysicalAddress:X}..+0x{Size:X}";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> SpanUnchecked(ulong gpa, int length)
    {
        ObjectDisposedException.ThrowIf(_mapping.IsClosed, this);
        return new Span<byte>((byte*)_mapping.Address + (gpa - GuestPhysicalAddress), length);
    }
}
