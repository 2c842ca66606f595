using KvmLab.Devices;

namespace KvmLab.Boards;

/// <summary>What a <see cref="BoardDevice.Create"/> function may use: the device clock and the machine's options.</summary>
/// <param name="Clock">Timers of asynchronous device work.</param>
/// <param name="Options">The options the machine is built with (edu's delays and the like).</param>
public sealed record BoardContext(DeviceClock Clock, MachineOptions Options);
