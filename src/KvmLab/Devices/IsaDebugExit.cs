using KvmLab.Memory;

namespace KvmLab.Devices;

/// <summary>
/// QEMU's isa-debug-exit (hw/misc/debugexit.c) at port 0x501, two ports wide: any write asks the run to end with
/// status (value &lt;&lt; 1) | 1, so a guest can never report 0. QEMU exits the process; KvmLab records the request
/// and the run loop checks <see cref="ExitRequested"/> after each exit.
/// </summary>
internal sealed class IsaDebugExit
{
    /// <summary>0x0 W: exit request; the value written becomes status (value &lt;&lt; 1) | 1.</summary>
    public const ulong RegExit = 0x0;

    /// <summary>The register map of "isa-debug-exit".</summary>
    public static readonly RegisterMap Registers = new(
        new Register(RegExit, PcLayout.IsaDebugExitSize, RegisterAccess.W, "exit", "end the run with status (value << 1) | 1"));

    /// <summary>Creates the device and its region (not yet placed).</summary>
    public IsaDebugExit()
    {
        Region = MemoryRegion.CreateIo("isa-debug-exit", PcLayout.IsaDebugExitSize, new Ops(this), "isa-debug-exit", Registers);
    }

    /// <summary>The port region; place it at <see cref="PcLayout.IsaDebugExitPort"/> in the "io" space.</summary>
    public MemoryRegion Region { get; }

    /// <summary>Whether the guest asked to end the run.</summary>
    public bool ExitRequested { get; private set; }

    /// <summary>The requested status (value &lt;&lt; 1) | 1; a process exit code would keep its low 8 bits.</summary>
    public ulong ExitStatus { get; private set; }

    /// <summary>Raised on each exit request with the status.</summary>
    public event Action<ulong>? Exited;

    /// <summary>Clears a request so the machine can run again.</summary>
    public void Reset()
    {
        ExitRequested = false;
        ExitStatus = 0;
    }

    private sealed class Ops(IsaDebugExit device) : IMemoryRegionOps
    {
        public ulong Read(ulong offset, int size) => 0;

        public void Write(ulong offset, int size, ulong value)
        {
            device.ExitStatus = (value << 1) | 1;
            device.ExitRequested = true;
            device.Exited?.Invoke(device.ExitStatus);
        }
    }
}
