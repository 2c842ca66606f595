namespace KvmLab.Loading;

/// <summary>
/// A flat guest image: raw bytes copied to <see cref="LoadAddress"/> in guest RAM and entered at
/// <see cref="Entry"/> in <see cref="Mode"/>. For real mode, the loader sets CS so that IP starts at
/// <c>Entry - (LoadAddress &amp; ~0xF)</c>, i.e. the image is addressed from its own 16-byte-aligned segment.
/// </summary>
/// <param name="Name">A short name for traces and messages.</param>
/// <param name="Bytes">The image, loaded verbatim.</param>
/// <param name="LoadAddress">Guest-physical address of the first byte.</param>
/// <param name="Entry">Guest-physical address of the first instruction.</param>
/// <param name="Mode">The CPU mode the loader puts the vCPU in before the first KVM_RUN.</param>
public sealed record GuestImage(string Name, byte[] Bytes, ulong LoadAddress, ulong Entry, CpuMode Mode)
{
    /// <summary>
    /// The board the guest was written for ("q35" for a guest that needs PCI Express), or null when it runs on any.
    /// <see cref="Machine.Boot"/> without options, <c>kvmlab run</c> without --machine and the QEMU comparison build
    /// that board.
    /// </summary>
    public string? Board { get; init; }

    /// <summary>
    /// Starts of the serial lines whose text is random by design (bytes an entropy device wrote, for instance). A
    /// comparison with QEMU expects those lines, and the serial writes that print them, to differ, and explains them
    /// instead of counting them as divergences; every other line must still agree.
    /// </summary>
    public IReadOnlyList<string> RandomLinePrefixes { get; init; } = [];
}
