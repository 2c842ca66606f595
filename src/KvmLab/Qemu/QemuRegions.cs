namespace KvmLab.Qemu;

/// <summary>
/// What KvmLab knows about QEMU 7.2's MemoryRegion names on the x86 <c>pc</c> machine: which device owns a region
/// and whether it lives in <c>address_space_io</c> or <c>address_space_memory</c>. QEMU's trace names the region but
/// not its address space, so a parser needs this to label accesses that no kvm_run_exit line explains (TCG runs,
/// device activity outside a vCPU).
/// </summary>
internal static class QemuRegions
{
    /// <summary>
    /// Name of the root region of QEMU's I/O address space. An access traced under this name hit no device: QEMU's
    /// unassigned port handler served it (reads return all-ones).
    /// </summary>
    public const string UnassignedIo = "io";

    // The boards' PCI devices name their own regions; the rest are the machine's fixed parts.
    private static readonly Dictionary<string, string> DeviceByRegion = BuildDeviceByRegion();

    private static Dictionary<string, string> BuildDeviceByRegion()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["serial"] = "serial",
            ["isa-debug-exit"] = "isa-debug-exit",
            ["ioport80"] = "ioport80",
            ["pci-conf-idx"] = "pci-host",
            ["pci-conf-data"] = "pci-host",
            ["pcie-mmcfg-mmio"] = "pci-host",
            ["apic-msi"] = "apic",
            ["kvm-apic-msi"] = "apic",
        };
        foreach (var board in Boards.Board.All)
        {
            foreach (var device in board.Devices)
            {
                foreach (var region in device.QemuRegions ?? [])
                {
                    map.TryAdd(region, device.Type);
                }
            }
        }

        return map;
    }

    private static readonly HashSet<string> IoRegions = new(StringComparer.Ordinal)
    {
        UnassignedIo, "serial", "isa-debug-exit", "pci-conf-idx", "pci-conf-data", "pci-testdev-portio",
        "piix3-reset-control", "elcr", "pic", "kvm-pic", "pit", "kvm-pit", "rtc", "rtc-index", "port92", "ioport80",
        "pcspk", "dma-chan", "dma-cont", "dma-page", "fwcfg", "fwcfg.dma", "acpi-evt", "acpi-cnt", "acpi-tmr",
        "apm-io", "pm-smbus", "piix-bmdma", "ide", "vmport", "i8042-data", "i8042-cmd", "virtio-pci", "ahci-idp",
    };

    /// <summary>
    /// Regions that both KvmLab and QEMU's machines have (KvmLab names its regions after QEMU's), i.e. the ones whose
    /// accesses can be compared one by one: the fixed parts, the APIC's MSI region (KvmLab records each MSI a device
    /// sends as a write there) and every region a board's device owns but pci-testdev's "membar", which KvmLab does not
    /// model.
    /// </summary>
    public static IReadOnlySet<string> Shared { get; } = new HashSet<string>(
        DeviceByRegion.Keys.Where(r => r is not "pci-testdev-membar"), StringComparer.Ordinal);

    /// <summary>The device that owns <paramref name="region"/> ("edu-mmio" -> "edu"); unknown regions own themselves.</summary>
    public static string DeviceOf(string region) => DeviceByRegion.TryGetValue(region, out var d) ? d : region;

    /// <summary>
    /// True when <paramref name="region"/> is (or, for names KvmLab does not know, plausibly is) a port I/O region:
    /// known names decide; otherwise an address below 0x10000 is taken as a port, because on the <c>pc</c> machine
    /// guest-physical addresses that low are RAM, which QEMU's ops trace never shows.
    /// </summary>
    public static bool IsIo(string region, ulong address) =>
        IoRegions.Contains(region) || (!DeviceByRegion.ContainsKey(region) && address <= 0xFFFF);
}
