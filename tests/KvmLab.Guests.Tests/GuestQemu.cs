using KvmLab.Loading;
using KvmLab.Qemu;

namespace KvmLab.Guests.Tests;

/// <summary>Runs a library guest under QEMU (the reference) through its firmware export, with edu and pci-testdev.</summary>
internal static class GuestQemu
{
    /// <summary>
    /// Runs <paramref name="image"/> under <c>-accel kvm</c>; when KVM stops the guest with an internal error (kvm_pvm
    /// cannot emulate IRETD in unpaged protected mode, for instance) runs it again under TCG, and the result says so.
    /// </summary>
    public static QemuRunResult Run(GuestImage image, string machine = "pc", TimeSpan? timeout = null)
    {
        var options = new QemuRunOptions
        {
            Board = KvmLab.Boards.Board.ByName(machine),
            Timeout = timeout ?? TestScale.Bound(TimeSpan.FromSeconds(20)),
        };
        var bios = GuestExport.ToQemuBios(image);
        var runner = new QemuRunner();
        var run = runner.Run(bios, options);
        return run.KvmInternalError ? runner.Run(bios, options with { Accelerator = QemuAccelerator.Tcg }) : run;
    }
}
