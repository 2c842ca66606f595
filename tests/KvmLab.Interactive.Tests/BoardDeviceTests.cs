using KvmLab.Boards;
using KvmLab.Fuzzing;
using KvmLab.Pci;
using KvmLab.Qemu;
using KvmLab.Testing;
using Microsoft.DotNet.Interactive.Formatting;

namespace KvmLab.Interactive.Tests;

/// <summary>
/// A new PCI device is one device file plus one line in a board: everything that knows the machine reads the board.
/// The device here is the whole "file": a class with an identity and nothing else.
/// </summary>
public class BoardDeviceTests
{
    private sealed class TrivialDevice() : PciDevice("kvmlab-trivial", 0x1B36, 0x00FE, revision: 0, classCode: 0x00FF, interruptPin: 0);

    private static readonly Board WithTrivial =
        Board.Pc.With(new BoardDevice("kvmlab-trivial", "trivial", 5, 0, _ => new TrivialDevice()));

    [Fact]
    public void One_board_line_reaches_the_fuzzer_and_the_qemu_command_line()
    {
        using var fuzzer = new DeviceFuzzer(WithTrivial);
        Assert.Contains(fuzzer.Host.Devices, d => d is TrivialDevice && d.Address == new PciAddress(0, 5, 0));
        Assert.Equal(0x00FE_1B36u, fuzzer.Host.ReadConfig(0, 5 << 3, 0, 4));

        var args = string.Join(" ", QemuRunner.BuildArguments("/b", "/s", "/t", new QemuRunOptions { Board = WithTrivial }));
        Assert.Contains("-M pc -device edu,id=edu,addr=02.0 -device pci-testdev,id=pci-testdev,addr=03.0 -device kvmlab-trivial,id=trivial,addr=05.0", args);
    }

    [KvmFact]
    public void One_board_line_reaches_the_machine_and_its_formatter()
    {
        using var machine = new Machine(new MachineOptions { Board = WithTrivial });

        Assert.IsType<TrivialDevice>(machine.Board.Devices["trivial"]);
        Assert.Equal(0x00FE_1B36u, machine.Pci.ReadConfig(0, 5 << 3, 0, 4));
        Assert.Contains("kvmlab-trivial 00:05.0", machine.ToDisplayString(HtmlFormatter.MimeType));
    }
}
