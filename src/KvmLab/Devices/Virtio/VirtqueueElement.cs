namespace KvmLab.Devices.Virtio;

/// <summary>One guest buffer of a descriptor chain: guest-physical address and length.</summary>
/// <param name="Address">Guest-physical address.</param>
/// <param name="Length">Bytes.</param>
internal readonly record struct VirtqueueBuffer(ulong Address, uint Length);

/// <summary>
/// A descriptor chain taken off the avail ring (QEMU: <c>VirtQueueElement</c>): the head index to return in the used
/// ring, the device-readable buffers, then the device-writable ones.
/// </summary>
/// <param name="Index">Head descriptor index.</param>
/// <param name="Out">Device-readable buffers in chain order.</param>
/// <param name="In">Device-writable buffers in chain order.</param>
internal sealed record VirtqueueElement(uint Index, IReadOnlyList<VirtqueueBuffer> Out, IReadOnlyList<VirtqueueBuffer> In);
