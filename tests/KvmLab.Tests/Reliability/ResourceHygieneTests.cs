using System.Globalization;
using System.Runtime.CompilerServices;
using KvmLab.Fuzzing;
using KvmLab.Loading;
using KvmLab.Testing;

namespace KvmLab.Tests.Reliability;

using Machine = KvmLab.Machine;

/// <summary>Machines created and thrown away, disposed or not, give back every descriptor, mapping and thread.</summary>
[Collection(ProcessWideCollection.Name)]
public sealed class ResourceHygieneTests
{
    [KvmFact]
    public void FourHundredMachinesHalfDisposedHalfDroppedLeaveNoDescriptorMappingOrThread()
    {
        var machines = TestScale.Count(400, 20);
        var report = MachineChurn.Run(machines, collectEvery: Math.Min(50, machines / 2));

        Assert.Equal(machines / 2, report.Dropped);
        Assert.True(report.Leaks.Count == 0, $"{string.Join("; ", report.Leaks)}\nbefore: {report.Before}\nafter:  {report.After}");
        Assert.Equal(report.Before.KvmDescriptors, report.After.KvmDescriptors);
        Assert.Equal(report.Before.KvmMappings, report.After.KvmMappings);
    }

    [KvmFact]
    public void AMachineDroppedWithoutDisposeHasItsRamAndKvmRunUnmappedByTheFinalizers()
    {
        MachineChurn.Collect();
        var before = ResourceSnapshot.Take();
        var (ramAddress, ramSize) = BuildAndDrop();
        var held = ResourceSnapshot.Take();
        Assert.True(Covered(ramAddress, ramSize), "guest RAM should be mapped while the machine is alive");
        Assert.True(held.KvmMappings > before.KvmMappings);

        MachineChurn.Collect();
        var after = ResourceSnapshot.Take();

        Assert.False(Covered(ramAddress, ramSize), $"guest RAM 0x{ramAddress:x}..+0x{ramSize:x} is still mapped");
        Assert.Equal(before.KvmMappings, after.KvmMappings);
        Assert.Equal(before.KvmDescriptors, after.KvmDescriptors);
        Assert.Empty(before.LeaksIn(after));
    }

    [KvmFact]
    public void DisposingAMachineUnmapsItsRamAtOnce()
    {
        var machine = new Machine();
        var (address, size) = ((ulong)machine.Ram.HostAddress, machine.Ram.Size);

        machine.Dispose();

        Assert.False(Covered(address, size));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (ulong Address, ulong Size) BuildAndDrop()
    {
        var machine = new Machine();
        machine.Load(new GuestImage("hlt", [0xF4], PcLayout.DefaultRealModeLoadAddress, PcLayout.DefaultRealModeLoadAddress, CpuMode.Real));
        machine.Run(TimeSpan.FromSeconds(5));
        return ((ulong)machine.Ram.HostAddress, machine.Ram.Size);
    }

    // Whether one mapping of /proc/self/maps covers the whole range (a new, unrelated mapping landing on exactly the
    // same 16 MiB is not a realistic confusion).
    private static bool Covered(ulong address, ulong size)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var range = line[..line.IndexOf(' ')].Split('-');
            ulong start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (start <= address && address + size <= end)
                return true;
        }
        return false;
    }
}
