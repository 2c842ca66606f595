namespace KvmLab.Qemu;

/// <summary>
/// The structural differences between a KvmLab machine and QEMU's <c>pc</c> machine running the same guest, as the
/// notes <see cref="TraceAligner"/> and <see cref="SerialComparison"/> attach to the rows they explain. None of them is
/// a device-model error: each follows from what the two machines are, not from how a shared device answers.
/// </summary>
internal static class KnownDifferences
{
    /// <summary>QEMU-only port 0x92 accesses before the payload runs.</summary>
    public const string FirmwareStub =
        "QEMU's firmware stub (the exported BIOS image) runs before the payload: it opens the A20 gate through port 0x92 " +
        "(read, set bit 1, write) and copies the payload into RAM; KvmLab's loader writes guest RAM directly, so the payload starts at once";

    /// <summary>QEMU-only accesses no vCPU made (no kvm_run_exit behind them), ahead of QEMU's first exit and of the
    /// guest's first access (e.g. the MSI write at reset under TCG).</summary>
    public const string QemuResetActivity =
        "QEMU's own activity at reset (no vCPU made this access), before the guest's first instruction";

    /// <summary>Configuration accesses that reach QEMU's PIIX3 functions.</summary>
    public const string PiixFunctions =
        "QEMU's pc machine has PIIX3 functions at 00:01.x (ISA bridge 8086:7000 with the multi-function bit, IDE 7010 with " +
        "a 16-byte I/O BAR4, and the PIIX4-style ACPI/PM function 7113); KvmLab has no device in slot 1, so its reads there return all-ones";

    /// <summary>The guest's own follow-up of an extra function when the function is not known: the lines it prints about it.</summary>
    public const string PiixReport = "the guest reporting what it found at QEMU's PIIX3 functions";

    /// <summary>A line the guest declared random (<see cref="Loading.GuestImage.RandomLinePrefixes"/>), and the serial
    /// writes that print it.</summary>
    public const string RandomData =
        "a line the guest declares random (GuestImage.RandomLinePrefixes): it prints bytes an entropy source produced " +
        "(virtio-rng's backend on each side), which differ between any two runs, KvmLab's or QEMU's; only this line's text " +
        "and the transmit writes that print it may differ, and the line must start with the same prefix on both sides";

    /// <summary>An MSI found on both sides, the same message in the same order among the MSIs, at different places among
    /// the guest's accesses.</summary>
    public const string MsiTiming =
        "the same MSI (address and data, the same one in order among the MSIs) sent at a different point of the guest's " +
        "accesses: a device sends it from work that does not wait for the guest (a doorbell completed through an ioeventfd, " +
        "a device timer), which each VMM runs when its own loop gets to it (QEMU's main loop, KvmLab's run loop between exits)";

    /// <summary>Who assigns BARs when a flat image is the firmware.</summary>
    public const string BarAssignment =
        "with a flat image as the BIOS no firmware assigns BARs on either side: they read 0 until the guest writes one, " +
        "so BAR values follow what each guest wrote and must agree";
}
