namespace KvmLab.Qemu;

/// <summary>
/// What KvmLab knows about QEMU 7.2's MemoryRegion names on the x86 <c>pc</c> machine: which device owns a region
/// and whether it lives in <c>address_space_io</c> or <c>address_space_memory</c>. QEMU's trace names the region but
/// not its address space, so a parser needs this to label accesses that no kvm_run_exit line explains (TCG runs,
/// device activity outside a vCPU).
/// </summary>
public static class QemuRegions
{
    /// <summary>
    /// Name of the root region of QEMU's I/O address space. An access traced under this name hit no device: QEMU's
    /// unassigned port handler served it (reads return all-ones).
    /// </summary>
    public const string UnassignedIo = "io";

    private static readonly Dictionary<string, string> DeviceByRegion = new(StringComparer.Ordinal)
    {
        ["serial"] = "serial",
        ["isa-debug-exit"] = "isa-debug-exit",
        ["pci-conf-idx"] = "pci-host",
        ["pci-conf-data"] = "pci-host",
        ["edu-mmio"] = "edu",
        ["pci-testdev-mmio"] = "pci-testdev",
        ["pci-testdev-portio"] = "pci-testdev",
        ["pci-testdev-membar"] = "pci-testdev",
        ["apic-msi"] = "apic",
        ["kvm-apic-msi"] = "apic",
    };

    private static readonly HashSet<string> IoRegions = new(StringComparer.Ordinal)
    {
        UnassignedIo, "serial", "isa-debug-exit", "pci-conf-idx", "pci-conf-data", "pci-testdev-portio",
        "piix3-reset-control", "elcr", "pic", "kvm-pic", "pit", "kvm-pit", "rtc", "rtc-index", "port92", "ioport80",
        "pcspk", "dma-chan", "dma-cont", "dma-page", "fwcfg", "fwcfg.dma", "acpi-evt", "acpi-cnt", "acpi-tmr",
        "apm-io", "pm-smbus", "piix-bmdma", "ide", "vmport", "i8042-data", "i8042-cmd",
    };

    /// <summary>
    /// Regions that both KvmLab and QEMU's <c>pc</c> machine have (KvmLab names its regions after QEMU's), i.e.
    /// the ones whose accesses can be compared one by one.
    /// </summary>
    public static IReadOnlySet<string> Shared { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "serial", "isa-debug-exit", "pci-conf-idx", "pci-conf-data", "edu-mmio", "pci-testdev-mmio", "pci-testdev-portio",
    };

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
