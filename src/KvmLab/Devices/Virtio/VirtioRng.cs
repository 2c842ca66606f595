using System.Security.Cryptography;

namespace KvmLab.Devices.Virtio;

/// <summary>Fills <paramref name="destination"/> with entropy (QEMU: an RngBackend such as rng-builtin).</summary>
internal delegate void EntropySource(Span<byte> destination);

/// <summary>
/// QEMU 7.2's virtio entropy device (hw/virtio/virtio-rng.c): one queue of 8 entries; every device-writable buffer
/// the driver offers is filled with bytes from the entropy source and returned through the used ring. The source
/// defaults to the host's cryptographic generator (QEMU's rng-builtin uses qemu_guest_getrandom); tests inject a
/// deterministic one. QEMU's rate limit (max-bytes per period) defaults to unlimited and is not modelled, and the
/// entropy arrives at once instead of from rng-builtin's bottom half.
/// </summary>
internal sealed class VirtioRng : VirtioDevice
{
    /// <summary>Virtio device ID of an entropy source.</summary>
    public const ushort VirtioId = 4;

    /// <summary>Size of the request queue (QEMU: <c>virtio_add_queue(vdev, 8, handle_input)</c>).</summary>
    public const int QueueSize = 8;

    // Entropy is produced in pieces of this size, so a guest offering gigabytes costs no host allocation.
    private const int Chunk = 4096;

    private readonly EntropySource _source;
    private readonly Virtqueue _queue;

    /// <summary>Creates the device.</summary>
    /// <param name="source">Where the bytes come from; null for <see cref="RandomNumberGenerator.Fill"/>.</param>
    public VirtioRng(EntropySource? source = null)
        : base("virtio-rng", VirtioId, transitionalPciDeviceId: 0x1005, pciClass: 0x00ff, configLength: 0)
    {
        _source = source ?? RandomNumberGenerator.Fill;
        _queue = AddQueue(0, QueueSize, _ => Process());
    }

    /// <summary>Bytes handed to the guest so far.</summary>
    public long BytesDelivered { get; private set; }

    /// <inheritdoc />
    protected override void StatusChanging(byte status)
    {
        // QEMU's virtio_rng_set_status stores the status first, then tries to serve buffers.
        Status = status;
        Process();
    }

    // QEMU: is_guest_ready.
    private bool IsGuestReady() => _queue.IsReady && (Status & VirtioSpec.StatusDriverOk) != 0;

    // QEMU: virtio_rng_process followed by chr_read, repeated while chr_read leaves buffers behind.
    private void Process()
    {
        while (!Broken && IsGuestReady())
        {
            uint size = _queue.GetAvailBytes(uint.MaxValue, 0).InBytes;
            if (size == 0 || !Deliver(size) || _queue.IsEmpty())
            {
                return;
            }
        }
    }

    // QEMU: chr_read. Returns whether anything was delivered.
    private bool Deliver(uint size)
    {
        Span<byte> bytes = stackalloc byte[Chunk];
        ulong offset = 0;
        bool any = false;
        while (offset < size && _queue.Pop() is { } element)
        {
            uint length = 0;
            ulong want = size - offset;
            while (length < want)
            {
                Span<byte> piece = bytes[..(int)Math.Min((ulong)Chunk, want - length)];
                _source(piece);
                uint written = _queue.WriteIn(element, length, piece);
                length += written;
                if (written < piece.Length)
                {
                    break;
                }
            }

            if (Broken)
            {
                return any;
            }

            offset += length;
            BytesDelivered += length;
            _queue.Push(element, length);
            any = true;
        }

        Notify(_queue);
        return any;
    }
}
