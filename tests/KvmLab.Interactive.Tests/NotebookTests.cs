using KvmLab.Kvm;
using KvmLab.Testing;

namespace KvmLab.Interactive.Tests;

public class NotebookTests
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(NotebookRunner.NotebooksDirectory(), "*.ipynb").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    /// <summary>
    /// What each chapter must show besides running cleanly: the claims it checks (each matched against the claims Claim
    /// printed with their conditions, never against other text: a print that looks like a claim does not count; a
    /// chapter whose claim was deleted fails here, one whose condition was edited in <see cref="ChapterClaimsTests"/>),
    /// other text it prints (measurements shown, diagrams), HTML it displays, and how many charts.
    /// </summary>
    public static TheoryData<string, string[], string[], string[], int> ChapterOutputs() => new()
    {
        { "01-getting-started.ipynb",
            ["holds: the first exit is KVM_EXIT_IO",
             "holds: the io address space sent it to the UART's line-status register (serial.LSR)",
             "holds: every character printed is one OUT exit to 0x3f8"],
            [],
            ["KVM_EXIT_IO (2)", "io.data_offset", "kvmlab-hexdump", "kvm_regs (KVM_GET_REGS)", "class=\"kvmlab-trace\"", "0x21 (33)"], 0 },
        { "02-the-run-loop.ipynb",
            ["holds: KVM_EXIT_IO goes to the io address space", "holds: three Steps are three KVM_RUN returns"],
            [],
            ["avg round trip ns", "i440FX-pcihost", "Accesses per register", "i440FX-pcihost.CONFIG_ADDRESS"], 1 },
        { "03-pio-vs-mmio.ipynb",
            ["holds: 1000 OUTs gave 1000 KVM_EXIT_IO, 1000 MOVs gave 1000 KVM_EXIT_MMIO"],
            ["io.data_offset 0x1000", "1000 exits, median"],
            ["mmio.phys_addr", "0xe0000000", "KVM_EXIT_IO handling latency in user space", "KVM_EXIT_MMIO handling latency in user space"], 2 },
        { "04-why-kvm-returns.ipynb",
            ["holds: with a RAM slot over the BAR the same loop exits 0 times",
             "holds: of the three accesses to the read-only slot only the write exited: KVM_EXIT_MMIO, with its value",
             "holds: both reads came from the slot's memory: 0x12345678 before and after the write",
             "holds: the slot's memory is unchanged: the write went to user space instead",
             "holds: with the ioeventfd no ring reaches user space (0 exits)",
             "holds: yet the eventfd counted every one (500)", "holds: each queued write is an exit saved"],
            [],
            ["KVM_RUN returns to KvmLab, without and with help from the kernel"], 1 },
        { "04b-inside-kvm.ipynb",
            ["holds: the vCPU counts exits, io_exits, mmio_exits and insn_emulation, each a cumulative counter",
             "holds: none of the ten PIT writes reached KvmLab: the in-kernel PIT took them",
             "holds: nor did the PIC's four or the local APIC's five accesses",
             "holds: all three port 0x80 writes and both writes to the unbacked page did",
             "holds: stepping saw the three port 0x80 exits and the two MMIO exits",
             "holds: without the in-kernel PIT all ten writes to 0x43 reached KvmLab",
             "holds: and so did the PIC's four and the local APIC's five accesses",
             "holds: with the ioeventfd none of the 500 rings reached KvmLab, and the eventfd counted every one",
             "holds: mmio_exits equals the MMIO exits KvmLab saw",
             "holds: the emulator still decoded every MMIO write with the zone"],
            ["of the 1000 MMIO writes came back through the ring, not as exits"],
            ["port I/O (io_exits)", ">replayed_from_ring</th>"], 1 },
        { "05-pci-configuration-space.ipynb",
            ["holds: both scans print the same devices (",
             "holds: the ECAM scan ran on q35 and first enabled the window through PCIEXBAR",
             "holds: conf1 needs two port exits per config access (",
             "holds: the mask 0xfff00000 reads back: a 1 MiB memory BAR",
             "holds: the bus reported the mapping change (pci_update_mappings)",
             "holds: a conf1 read is two KVM_EXIT_IO"],
            ["IO->>D0: read CONFIG_DATA", "K-->>G: the IN completes with 0x"],
            ["0xb0010010"], 1 },
        { "06-the-edu-device.ipynb",
            ["holds: every edu register access is its own KVM_EXIT_MMIO",
             "holds: a 2-byte read is rejected by the memory core",
             "holds: an 8-byte read of 0x00 reaches edu, which answers all-ones",
             "holds: edu's first read is its identification register"],
            ["MEM->>D0: read id", "D0-->>MEM: 0x010000ed"],
            ["edu.factorial", "identification 0x010000ed", "<th style=\"text-align:left\">Meaning</th>"], 1 },
        { "07-interrupts-and-dma.ipynb",
            ["holds: one MSI per factorial: 12 sent",
             "holds: the guest programmed address 0xfee00000 (APIC 0) and vector 0x40",
             "holds: 256 bytes went RAM -> device -> RAM intact",
             "holds: the trace holds one record per MSI: 12 records, 12 MSIs counted by the interrupt sink",
             "holds: the first MSI went out after the factorial write"],
            ["MSI: KVM_SIGNAL_MSI address 0xfee00000 data 0x0040",
             "K->>G: vector 0x40 raised by the in-kernel local APIC", "MEM->>D0: read irq_status"],
            [], 2 },
        { "08-single-stepping-and-your-own-guest.ipynb",
            ["holds: after the imul RAX holds 6 x 7 = 42",
             "holds: together the 9 steps ran the listing's first 9 instructions in order",
             "holds: every completed step ran exactly one instruction, the OUT to COM1 included",
             "holds: the breakpoint was hit 12 times, once per factorial",
             "holds: RBX = 1, 2, ..., 12 at the hits"],
            ["as measured for kvm_", "measured: RIP at an OUT exit: ",
             "KVM_EXIT_DEBUG: 12 breakpoint hits and 12 one-instruction steps that resumed past them",
             "device exits of the run map back to an instruction in the guest's code"],
            ["imul eax,ecx", "mov edi,0xE0000008", "edu.factorial", "<th style=\"text-align:left\">last_line_printed</th>", ">0f af c1</td>"], 0 },
        { "09-kvmlab-and-qemu.ipynb",
            ["holds: QEMU ran with -accel kvm, on the same /dev/kvm as KvmLab",
             "holds: the guest printed exactly the same text under both",
             "holds: pci-scan agrees under both",
             "holds: every line KvmLab printed, QEMU printed too, in the same order",
             "holds: the only extra lines are the 00:01.x ones",
             "holds: edu (1234:11e8) is at 00:02.0 under both"],
            ["aligned edu accesses agree", "00:01.0 8086:7000 class 060100 header 80"],
            ["Match", "Explained", "00:01.3 8086:7113", "<th style=\"text-align:right\">qemu</th>"], 0 },
        { "10-pci-express.ipynb",
            ["holds: QEMU gets -M q35 and one -device per device except the three ICH9 functions",
             "holds: before the guest runs, the q35 machine has no ECAM region",
             "holds: one conf1 write of 0xB0000001 to PCIEXBAR mapped the 256 MiB window at 0xB0000000",
             "holds: only the two PCI Express functions, the root port 00:01.0 (AER at 0x100, ACS at 0x148) and virtio-rng 01:00.0",
             "holds: at \"0x100\" conf1 reads the root port's vendor/device dword (0x000c1b36)",
             "holds: bus 1 read all-ones (0xffffffff) until the port had bus numbers, then edu answered (0x11e81234)",
             "holds: edu's BAR behind the port answered (0x010000ed) only while the port's memory window covered it",
             "holds: the window is an alias (pci_bridge_mem) of the secondary bus's space",
             "holds: programming MSI-X vector 0 was four KVM_EXIT_MMIO writes into the msix-table region inside BAR1",
             "holds: the device answered with one MSI-X message (KVM_SIGNAL_MSI)"],
            ["none of them the doorbell"],
            ["virtio-rng-pci.msg_addr_lo", "virtio-rng-pci.msg_data"], 2 },
    };

    private static bool BreakpointsFire => KvmBehaviour.Current.SoftwareBreakpoints || KvmBehaviour.Current.HardwareBreakpoints;

    // Every chapter runs top to bottom (a failing cell throws) in ChapterShowsItsCheckedClaimsAndDisplays, which this
    // makes sure covers them all: one execution per chapter, which matters where KVM is emulated.
    [Fact]
    public void EveryChapterHasItsOutputsChecked()
    {
        var checkedChapters = ((IEnumerable<object[]>)ChapterOutputs()).Select(row => (string)row[0]).ToHashSet();

        Assert.All(((IEnumerable<object[]>)Notebooks()).Select(row => (string)row[0]), n => Assert.Contains(n, checkedChapters));
    }

    [KvmTheory]
    [MemberData(nameof(ChapterOutputs))]
    public async Task ChapterShowsItsCheckedClaimsAndDisplays(string notebook, string[] claims, string[] shown, string[] html, int charts)
    {
        Assert.All(claims, c => Assert.StartsWith(Claims.HoldsPrefix, c));
        // Chapter 8 shows breakpoint hits where this KVM fires breakpoints, and their refusal where it measurably fires
        // none (QEMU's TCG emulating SVM): each run is checked for what its backend shows.
        if (notebook.StartsWith("08-", StringComparison.Ordinal) && !BreakpointsFire)
        {
            claims = [.. claims.Where(c => !c.Contains("hit", StringComparison.Ordinal)),
                "holds: AddBreakpoint is refused, naming the measurement"];
            shown = [.. shown.Where(c => !c.Contains("hit", StringComparison.Ordinal))];
            html = [.. html.Where(h => !h.Contains("last_line_printed", StringComparison.Ordinal))];
        }
        // Chapter 4b checks the rule of its backend for what the kernel counted: each run is checked for its own.
        if (notebook.StartsWith("04b-", StringComparison.Ordinal))
        {
            if (KvmBackends.Current.IsHardware())
                claims = [.. claims, "holds: io_exits counted", "holds: the first write to the unbacked page created an MMIO SPTE",
                    "holds: io_exits still counted every ring with the ioeventfd", "holds: the kernel took as many exits with the zone as without"];
            else if (KvmBackends.Current == KvmBackend.Pvm)
                claims = [.. claims, "holds: on kvm_pvm io_exits stays 0", "holds: on kvm_pvm neither MMIO write created an MMIO SPTE",
                    "holds: on kvm_pvm the rings show as emulated instructions"];
            // The tracepoint section checks its claims where tracefs can be read (root, mounted), and says why not elsewhere.
            if (Environment.IsPrivilegedProcess && KvmLab.Tracing.Kernel.KernelTrace.FindTracefs() is not null)
            {
                claims = [.. claims, "holds: the tracepoints saw the PIT's ten writes and the PIC's four", "holds: every kvm_pio at 0x80 and kvm_mmio at 0xe8000000"];
                shown = [.. shown, "participant K as KVM (kernel, tracepoints)", "G->>K: #35;"];
            }
            else
                shown = [.. shown, "no kernel trace here: "];
        }
        var outputs = await NotebookRunner.RunAsync(Path.Combine(NotebookRunner.NotebooksDirectory(), notebook));
        // The first output says on what the chapter was measured.
        Assert.Matches("^measured_on +value\n-+ +-+\nCPU +.+\nkernel +Linux .+\nKVM backend +kvm_", outputs.First(o => o.MimeType == "text/plain").Value);

        var text = string.Join("\n", outputs.Where(o => o.MimeType == "text/plain").Select(o => o.Value));
        var htmlOutputs = outputs.Where(o => o.MimeType == "text/html").Select(o => o.Value).ToList();
        // A claim must be one the chapter checked (its sentence printed by Claim, with a condition); the shown items are
        // text the chapter prints. Every claim printed must check a reviewed condition (chapter-claims.txt).
        var printed = Claims.Parse(text);
        var reviewed = ChapterClaimsTests.Reviewed().GetValueOrDefault(notebook) ?? [];
        Assert.All(claims, c => Assert.Contains(printed, p => (Claims.HoldsPrefix + p.Claim).Contains(c, StringComparison.Ordinal)));
        Assert.All(shown, c => Assert.Contains(c, text + string.Join("\n", htmlOutputs)));
        Assert.All(printed, p => Assert.True(reviewed.Contains(p.Condition), $"'{p.Claim}' checked '{p.Condition}', which chapter-claims.txt does not list for {notebook}"));
        Assert.All(html, h => Assert.Contains(htmlOutputs, o => o.Contains(h)));
        var chartOutputs = htmlOutputs.Where(o => o.Contains("class=\"kvmlab-chart\"")).ToList();
        Assert.Equal(charts, chartOutputs.Count);
        if (charts > 0)
        {
            Assert.Contains("DecompressionStream", chartOutputs[0]);
            Assert.All(chartOutputs.Skip(1), c => Assert.DoesNotContain("DecompressionStream", c));
        }
        Assert.DoesNotContain(htmlOutputs, o => o.Contains("cdn.plot.ly"));
        // The stock formatter's index/value tree is what a sequence shown without ToTable() looks like.
        Assert.DoesNotContain(htmlOutputs, o => o.Contains("dni-treeview"));
    }
}
