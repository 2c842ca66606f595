namespace KvmLab.Guests;

/// <summary>The guest library: every lesson, in the order a reader meets them.</summary>
public static class GuestLibrary
{
    /// <summary>All guests.</summary>
    public static IReadOnlyList<Guest> All { get; } =
    [
        HelloGuest.Entry,
        PioVsMmioGuest.Entry,
        PciScanGuest.Conf1Entry,
        PciScanGuest.EcamEntry,
        PcieScanGuest.Entry,
        ConfigDumpGuest.Entry,
        EduGuest.Entry,
        EduIrqGuest.Entry,
        EduDmaGuest.Entry,
        ModesGuest.Entry,
        BarLoopGuest.Entry,
        BarMoveGuest.Entry,
        VirtioRngGuest.Entry,
        InKernelGuest.Entry,
    ];

    /// <summary>The guest called <paramref name="name"/>, or null.</summary>
    public static Guest? Find(string name) =>
        All.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The guest called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No guest has that name; the message lists the names there are.</exception>
    public static Guest Get(string name) =>
        Find(name) ?? throw new ArgumentException($"No guest '{name}'. Guests: {string.Join(", ", All.Select(g => g.Name))}.", nameof(name));
}
