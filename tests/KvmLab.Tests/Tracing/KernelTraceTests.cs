using System.Diagnostics;
using KvmLab.Kvm;
using KvmLab.Loading;
using KvmLab.Testing;
using KvmLab.Tracing;
using KvmLab.Tracing.Kernel;

namespace KvmLab.Tests.Tracing;

public sealed class KernelTraceTests
{
    [Fact]
    public void Trace_lines_are_read_with_and_without_flags_and_tgid_on_the_monotonic_clock()
    {
        var a = KernelTrace.Parse("          kvmlab-1234    [001] d..1.  1234.567890: kvm_pio: pio_write at 0x43 size 1 count 1 val 0x34 ")!;
        var b = KernelTrace.Parse(" .NET TP Worker-77 (   70) [000]  99.000001: kvm_userspace_exit: reason KVM_EXIT_IO (2)")!;
        var c = KernelTrace.Parse("<...>-5 [003] 7.5: kvm_mmio: mmio write len 4 gpa 0xe8000000 val 0x1")!;

        Assert.Equal((1234_567_890_000L, 1, 1234, "kvm_pio"), (a.TimestampNanos, a.Cpu, a.Thread, a.Name));
        Assert.Equal((0x43UL, true), (a.Address!.Value, a.IsWrite!.Value));
        Assert.Equal((99_000_001_000L, 77, "KVM_EXIT_IO"), (b.TimestampNanos, b.Thread, b.UserspaceExit));
        Assert.Equal((7_500_000_000L, 0xE8000000UL), (c.TimestampNanos, c.Address!.Value));
        Assert.Null(KernelTrace.Parse("# entries-in-buffer/entries-written: 3/3   #P:2"));
    }

    [Fact]
    public void A_kvm_exit_line_gives_its_reason_rip_and_exit_information_and_an_npf_says_which_fault()
    {
        var first = KernelTrace.Parse("k-1 [000] .... 1.000000: kvm_exit: vcpu 0 reason npf rip 0x10008d info1 0x0000000100000006 info2 0x00000000e8000000 intr_info 0x00000000 error_code 0x00000000")!;
        var later = KernelTrace.Parse("k-1 [000] .... 1.000100: kvm_exit: vcpu 0 reason npf rip 0x100099 info1 0x000000010000000e info2 0x00000000e8000000 intr_info 0x00000000 error_code 0x00000000")!;
        var vmx = KernelTrace.Parse("k-1 [000] .... 1.000200: kvm_exit: vcpu 0 reason EPT_MISCONFIG rip 0x100099 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000")!;

        Assert.Equal(("npf", 0x10008dUL, 0x100000006UL, 0xE8000000UL), (first.ExitReason, first.Rip!.Value, first.Info1!.Value, first.Info2!.Value));
        Assert.False(first.NpfReservedBit);
        Assert.True(later.NpfReservedBit);
        Assert.Equal("EPT_MISCONFIG", vmx.ExitReason);
        Assert.Null(vmx.NpfReservedBit);
    }

    // Three exits to the guest or to user space and one ended by a signal, as an SVM capture prints them.
    private static readonly string[] CapturedLines =
        [
            "k-1 [000] .... 1.000000: kvm_exit: vcpu 0 reason io rip 0x10000a info1 0x0000000000430010 info2 0x000000000010000b intr_info 0x00000000 error_code 0x00000000",
            "k-1 [000] .... 1.000001: kvm_pio: pio_write at 0x43 size 1 count 1 val 0x34",
            "k-1 [000] .... 1.000002: kvm_entry: vcpu 0, rip 0x10000b",
            "k-2 [001] .... 1.000002: kvm_set_irq: gsi 11 level 1 source 0",
            "k-1 [000] .... 1.000010: kvm_exit: vcpu 0 reason io rip 0x10006e info1 0x0000000000800010 info2 0x000000000010006f intr_info 0x00000000 error_code 0x00000000",
            "k-1 [000] .... 1.000011: kvm_pio: pio_write at 0x80 size 1 count 1 val 0x0",
            "k-1 [000] .... 1.000012: kvm_userspace_exit: reason KVM_EXIT_IO (2)",
            "k-1 [000] .... 1.000020: kvm_entry: vcpu 0, rip 0x10006e",
            "k-1 [000] .... 1.000030: kvm_exit: vcpu 0 reason npf rip 0x10008d info1 0x0000000100000006 info2 0x00000000e8000000 intr_info 0x00000000 error_code 0x00000000",
            "k-1 [000] .... 1.000031: kvm_page_fault: vcpu 0 rip 0x10008d address 0x00000000e8000000 error_code 0x100000006",
            "k-1 [000] .... 1.000032: kvm_emulate_insn: 0:10008d:89 07 (prot32)",
            "k-1 [000] .... 1.000033: kvm_mmio: mmio write len 4 gpa 0xe8000000 val 0x0",
            "k-1 [000] .... 1.000034: kvm_userspace_exit: reason KVM_EXIT_MMIO (6)",
            "k-1 [000] .... 1.000040: kvm_entry: vcpu 0, rip 0x10008f",
            "k-1 [000] .... 1.000050: kvm_exit: vcpu 0 reason io rip 0x10000a info1 0x0000000000430010 info2 0x000000000010000b intr_info 0x00000000 error_code 0x00000000",
            "k-1 [000] .... 1.000051: kvm_pio: pio_write at 0x43 size 1 count 1 val 0x34",
            "k-1 [000] .... 1.000052: kvm_userspace_exit: reason restart (4)",
        ];

    [Fact]
    public void Events_group_into_kernel_exits_that_end_in_the_guest_or_in_user_space()
    {
        var exits = KernelExits.Of(CapturedLines.Select(l => KernelTrace.Parse(l)!));

        Assert.Equal(4, exits.Count);
        Assert.Equal("io -> out 0x43 -> handled in the kernel", exits[0].ToString());
        Assert.Equal("io -> out 0x80 -> KVM_EXIT_IO", exits[1].ToString());
        Assert.Equal("npf (not present) -> page fault -> emulated -> mmio write len 4 gpa 0xe8000000 val 0x0 -> KVM_EXIT_MMIO", exits[2].ToString());
        // A signal ended the last KVM_RUN after KVM had finished the PIT write itself: not an exit user space handled.
        Assert.False(exits[3].ReachedUserSpace);
        Assert.True(exits[3].ReturnedForSignalOrError);
        Assert.Equal("io -> out 0x43 -> handled in the kernel -> KVM_RUN returned anyway (restart: a signal or an error)", exits[3].ToString());
        Assert.Equal([new KernelExitCount("io", 2, 1), new KernelExitCount("npf", 0, 1)], KernelExits.ByReason(exits));
    }

    [Fact]
    public void The_perfetto_file_has_a_slice_per_kernel_exit_and_per_record_and_an_arrow_for_each_return_to_user_space()
    {
        var events = CapturedLines.Select(l => KernelTrace.Parse(l)!).ToList();
        var trace = new KvmLab.Tracing.ExitTrace("captured");
        // KvmLab's records of the two exits that returned (1 us after each kvm_userspace_exit), and of the signal's return.
        const long epoch = 1_000_000_000;
        trace.Add(new ExitRecord(13_000, ExitReason.Io, TraceAccess.PioWrite, 0x80, 1, 0, 0x10006e, ExitFlags.None, 0, 0, 0, 500));
        trace.Add(new ExitRecord(35_000, ExitReason.Mmio, TraceAccess.MmioWrite, 0xE8000000, 4, 0, 0x10008f, ExitFlags.None, 0, 0, 0, 700));
        trace.Add(new ExitRecord(53_000, ExitReason.Intr, TraceAccess.None, 0, 0, 0, 0x10000b, ExitFlags.None, 0, 0, 0, 100));
        using var stream = new MemoryStream();
        KernelTracePerfetto.Write(stream, events, trace, epoch);

        using var json = System.Text.Json.JsonDocument.Parse(stream.ToArray());
        var all = json.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        string Ph(System.Text.Json.JsonElement e) => e.GetProperty("ph").GetString()!;
        int Pid(System.Text.Json.JsonElement e) => e.GetProperty("pid").GetInt32();
        var kernel = all.Where(e => Ph(e) == "X" && Pid(e) == KernelTracePerfetto.KernelProcess).ToList();
        Assert.Equal(["io", "io", "npf", "io"], kernel.Select(e => e.GetProperty("name").GetString()));
        Assert.Equal([0.0, 10.0, 30.0, 50.0], kernel.Select(e => e.GetProperty("ts").GetDouble()));
        Assert.Equal([2.0, 2.0, 4.0, 2.0], kernel.Select(e => e.GetProperty("dur").GetDouble())); // to kvm_entry or kvm_userspace_exit
        Assert.Equal("npf (not present) -> page fault -> emulated -> mmio write len 4 gpa 0xe8000000 val 0x0 -> KVM_EXIT_MMIO",
            kernel[2].GetProperty("args").GetProperty("path").GetString());
        Assert.Equal(10, all.Count(e => Ph(e) == "i"));
        var user = all.Where(e => Ph(e) == "X" && Pid(e) == KernelTracePerfetto.UserSpaceProcess).ToList();
        Assert.Equal([13.0, 35.0, 53.0], user.Select(e => e.GetProperty("ts").GetDouble()));
        Assert.Equal([0.5, 0.7, 0.1], user.Select(e => e.GetProperty("dur").GetDouble()));
        // One arrow per exit KVM_RUN returned for, from the kernel's kvm_userspace_exit to KvmLab's record; none for the
        // signal's return, which the kernel had finished.
        Assert.Equal([(12.0, 1), (34.0, 2)], all.Where(e => Ph(e) == "s").Select(e => (e.GetProperty("ts").GetDouble(), e.GetProperty("id").GetInt32())));
        Assert.Equal([(13.0, 1), (35.0, 2)], all.Where(e => Ph(e) == "f").Select(e => (e.GetProperty("ts").GetDouble(), e.GetProperty("id").GetInt32())));
        Assert.Contains(all, e => Ph(e) == "M" && e.GetProperty("args").GetProperty("name").GetString() == "KVM (kernel)");
    }

    [Fact]
    public void A_tracefs_without_kvm_events_is_refused_naming_what_is_missing()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            var e = Assert.Throws<KernelTraceUnavailableException>(() => KernelTrace.Start());
            Assert.Contains("needs root", e.Message);
            Assert.Contains("KernelStats", e.Message);
            return;
        }
        using var dir = new TempDirectory();
        var missing = Assert.Throws<KernelTraceUnavailableException>(() => KernelTrace.Start(dir.Path));
        Assert.Contains("has no events/kvm", missing.Message);
    }

    [KvmFact]
    public void A_capture_of_the_in_kernel_guest_shows_the_pit_writes_the_kernel_finished_and_the_rest_reaching_kvmlab()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            // Without root the capture is refused with the reason and the fix (the other tests here check the message).
            Assert.Throws<KernelTraceUnavailableException>(() => KernelTrace.Start());
            return;
        }
        using var tracefs = TracefsMount.Get();
        // The guest's bytes, as InKernelGuest writes them, without a reference to the guest library: ten OUTs to 0x43,
        // three to 0x80, two stores to 0xE8000000, then isa-debug-exit.
        using var machine = KvmLab.Machine.Boot(InKernelLikeGuest());
        using var capture = KernelTrace.Start(tracefs.Path);
        var result = machine.Run(new RunOptions { Timeout = TestScale.Bound(TimeSpan.FromSeconds(10)) });
        var events = capture.Stop();
        Assert.Equal(StopReason.IsaDebugExit, result.Reason);
        Assert.Equal(0, capture.Lost);

        var byTarget = KernelTraceAnalysis.AccessesByTarget(events, machine.Trace).ToDictionary(c => (c.IsPio, c.Address));
        Assert.Equal((10, 0, 10), (byTarget[(true, 0x43)].Kernel, byTarget[(true, 0x43)].UserSpace, byTarget[(true, 0x43)].Inside));
        Assert.Equal((3, 3, 0), (byTarget[(true, 0x80)].Kernel, byTarget[(true, 0x80)].UserSpace, byTarget[(true, 0x80)].Inside));
        Assert.Equal((2, 2, 0), (byTarget[(false, 0xE8000000)].Kernel, byTarget[(false, 0xE8000000)].UserSpace, byTarget[(false, 0xE8000000)].Inside));

        var exits = KernelExits.Of(events);
        using (var perfetto = new MemoryStream())
        {
            KernelTracePerfetto.Write(perfetto, events, machine.Trace, machine.TraceEpochNanos);
            using var json = System.Text.Json.JsonDocument.Parse(perfetto.ToArray());
            var all = json.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
            Assert.Equal(exits.Count, all.Count(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == KernelTracePerfetto.KernelProcess));
            Assert.Equal(machine.Trace.Count, all.Count(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == KernelTracePerfetto.UserSpaceProcess));
            // Every exit KVM_RUN returned for found the record KvmLab made of it.
            Assert.Equal(exits.Count(x => x.ReachedUserSpace), all.Count(e => e.GetProperty("ph").GetString() == "f"));
        }
        var timeline = KernelTraceAnalysis.Timeline(events, machine);
        Assert.Contains(timeline, t => t.Side == "KvmLab" && t.What.Contains("0xe8000000"));
        Assert.True(timeline.Zip(timeline.Skip(1)).All(p => p.First.TimestampNanos <= p.Second.TimestampNanos));
        switch (KvmBackends.Current)
        {
            case KvmBackend.Svm or KvmBackend.Vmx:
                var pit = exits.Where(x => x.Access?.Name == "kvm_pio" && x.Access.Address == 0x43).ToList();
                Assert.Equal(10, pit.Count);
                Assert.All(pit, x => Assert.False(x.ReachedUserSpace, x.ToString()));
                var mmio = exits.Where(x => x.Access?.Address == 0xE8000000).ToList();
                Assert.Equal(2, mmio.Count);
                Assert.All(mmio, x => Assert.True(x.ReachedUserSpace && x.Emulated, x.ToString()));
                if (KvmBackends.Current == KvmBackend.Svm)
                    Assert.Equal([false, true], mmio.Select(x => x.Exit.NpfReservedBit!.Value));
                else
                    Assert.Equal(["EPT_VIOLATION", "EPT_MISCONFIG"], mmio.Select(x => x.Reason));
                break;
            case KvmBackend.Pvm:
                // Measured: kvm_pvm emulates the guest's port and MMIO instructions (kvm_emulate_insn) and traces no
                // kvm_exit for them.
                Assert.DoesNotContain(events, e => e.Name == "kvm_exit");
                Assert.Contains(events, e => e.Name == "kvm_emulate_insn");
                break;
        }
    }

    private static GuestImage InKernelLikeGuest()
    {
        var code = new List<byte>();
        for (var i = 0; i < 10; i++) code.AddRange([0xB0, 0x34, 0xE6, 0x43]);            // mov al,0x34; out 0x43,al
        for (var i = 0; i < 3; i++) code.AddRange([0xB0, (byte)i, 0xE6, 0x80]);          // mov al,i; out 0x80,al
        for (var i = 0; i < 2; i++) code.AddRange([0xC7, 0x05, 0x00, 0x00, 0x00, 0xE8, (byte)i, 0, 0, 0]); // mov dword [0xe8000000],i
        code.AddRange([0x66, 0xBA, 0x01, 0x05, 0xB0, 0x10, 0xEE, 0xF4]);                 // mov dx,0x501; mov al,0x10; out dx,al; hlt
        var at = PcLayout.DefaultFlatLoadAddress;
        return new GuestImage("in-kernel-like", code.ToArray(), at, at, CpuMode.Protected);
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("kvmlab-tracefs-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>The mounted tracefs, or one mounted for the test (and unmounted after) where none is.</summary>
    private sealed class TracefsMount : IDisposable
    {
        private readonly bool _mountedHere;

        private TracefsMount(string path, bool mountedHere)
        {
            Path = path;
            _mountedHere = mountedHere;
        }

        public string Path { get; }

        public static TracefsMount Get()
        {
            if (KernelTrace.FindTracefs() is { } existing) return new TracefsMount(existing, false);
            var dir = Directory.CreateTempSubdirectory("kvmlab-tracefs-").FullName;
            Run("mount", "-t", "tracefs", "nodev", dir);
            return new TracefsMount(dir, true);
        }

        public void Dispose()
        {
            if (!_mountedHere) return;
            Run("umount", Path);
            Directory.Delete(Path);
        }

        private static void Run(string file, params string[] args)
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {err}");
        }
    }
}
