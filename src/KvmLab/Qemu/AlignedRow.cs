namespace KvmLab.Qemu;

/// <summary>One step of an alignment: what KvmLab did, what QEMU did, how they compare and why.</summary>
/// <param name="KvmLab">KvmLab's side, or null for <see cref="AlignmentStatus.OnlyQemu"/>.</param>
/// <param name="Qemu">QEMU's side, or null for <see cref="AlignmentStatus.OnlyKvmLab"/>.</param>
/// <param name="Status">The comparison.</param>
/// <param name="Note">Context a reader needs: the PCI function a config access addressed, a known structural difference
/// between the two machines, or why a side is missing; empty when there is nothing to add.</param>
public sealed record AlignedRow(AlignedAccess? KvmLab, AlignedAccess? Qemu, AlignmentStatus Status, string Note);

/// <summary>Accesses per region on both sides (collapsed steps count every read they stand for).</summary>
/// <param name="Region">QEMU-style region name.</param>
/// <param name="Device">Owner device.</param>
/// <param name="KvmLab">KvmLab's access count.</param>
/// <param name="Qemu">QEMU's access count.</param>
public sealed record RegionCount(string Region, string Device, int KvmLab, int Qemu);
