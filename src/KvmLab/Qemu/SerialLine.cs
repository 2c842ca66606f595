namespace KvmLab.Qemu;

/// <summary>One step of the line-by-line comparison of the two serial outputs.</summary>
/// <param name="KvmLab">KvmLab's line, or null when only QEMU printed it.</param>
/// <param name="Qemu">QEMU's line, or null when only KvmLab printed it.</param>
/// <param name="Status">The comparison.</param>
/// <param name="Note">Why the lines differ, when that is known; empty otherwise.</param>
public sealed record SerialLine(string? KvmLab, string? Qemu, SerialLineStatus Status, string Note);
