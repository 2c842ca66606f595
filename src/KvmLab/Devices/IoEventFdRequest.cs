namespace KvmLab.Devices;

/// <summary>
/// Where a device would like an ioeventfd (KVM_IOEVENTFD): writes of <see cref="Length"/> bytes to
/// <see cref="Address"/> in <see cref="Space"/> that (when <see cref="MatchData"/>) carry <see cref="Data"/> complete
/// in the kernel without an exit.
/// </summary>
/// <param name="Space">"io" or "memory".</param>
/// <param name="Address">Absolute port or guest-physical address.</param>
/// <param name="Length">Access width in bytes.</param>
/// <param name="MatchData">Whether only writes of <paramref name="Data"/> are caught.</param>
/// <param name="Data">The value to match.</param>
public sealed record IoEventFdRequest(string Space, ulong Address, int Length, bool MatchData, ulong Data)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Space} 0x{Address:x}..+{Length}{(MatchData ? $" data=0x{Data:x}" : " any data")}";
}
