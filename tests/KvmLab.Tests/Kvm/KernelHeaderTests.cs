using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KvmLab.Kvm.Interop;

namespace KvmLab.Tests.Kvm;

/// <summary>Compiles a C program against the installed &lt;linux/kvm.h&gt; and compares every layout and ioctl number.</summary>
public sealed class KernelHeaderTests
{
    private const string Probe = """
        #include <stdio.h>
        #include <stddef.h>
        #include <linux/kvm.h>
        #define SIZE(s) printf("size %s %zu\n", #s, sizeof(struct s));
        #define OFF(s, f) printf("offset %s.%s %zu\n", #s, #f, offsetof(struct s, f));
        #define IOCTL(n) printf("ioctl %s %lu\n", #n, (unsigned long)(n));
        int main(void) {
            SIZE(kvm_run) SIZE(kvm_regs) SIZE(kvm_sregs) SIZE(kvm_segment) SIZE(kvm_dtable)
            SIZE(kvm_userspace_memory_region) SIZE(kvm_guest_debug) SIZE(kvm_ioeventfd) SIZE(kvm_coalesced_mmio_zone)
            SIZE(kvm_coalesced_mmio) SIZE(kvm_coalesced_mmio_ring) SIZE(kvm_msi) SIZE(kvm_irq_level) SIZE(kvm_pit_config)
            SIZE(kvm_cpuid2) SIZE(kvm_cpuid_entry2) SIZE(kvm_debug_exit_arch) SIZE(kvm_stats_header) SIZE(kvm_stats_desc)
            OFF(kvm_stats_header, name_size) OFF(kvm_stats_header, num_desc) OFF(kvm_stats_header, id_offset)
            OFF(kvm_stats_header, desc_offset) OFF(kvm_stats_header, data_offset) OFF(kvm_stats_desc, exponent)
            OFF(kvm_stats_desc, size) OFF(kvm_stats_desc, offset) OFF(kvm_stats_desc, bucket_size) OFF(kvm_stats_desc, name)
            OFF(kvm_run, immediate_exit) OFF(kvm_run, exit_reason) OFF(kvm_run, io) OFF(kvm_run, mmio)
            OFF(kvm_run, kvm_valid_regs) OFF(kvm_run, kvm_dirty_regs) OFF(kvm_run, s)
            OFF(kvm_sregs, gdt) OFF(kvm_sregs, cr0) OFF(kvm_sregs, efer) OFF(kvm_sregs, interrupt_bitmap)
            OFF(kvm_regs, rip) OFF(kvm_segment, type) OFF(kvm_segment, unusable)
            OFF(kvm_ioeventfd, fd) OFF(kvm_ioeventfd, flags) OFF(kvm_coalesced_mmio, data)
            OFF(kvm_cpuid_entry2, edx) OFF(kvm_guest_debug, arch)
            printf("offset kvm_run_io.data_offset %zu\n", offsetof(struct kvm_run, io.data_offset) - offsetof(struct kvm_run, io));
            printf("offset kvm_run_mmio.data %zu\n", offsetof(struct kvm_run, mmio.data) - offsetof(struct kvm_run, mmio));
            printf("offset kvm_run_mmio.is_write %zu\n", offsetof(struct kvm_run, mmio.is_write) - offsetof(struct kvm_run, mmio));
            IOCTL(KVM_GET_API_VERSION) IOCTL(KVM_CREATE_VM) IOCTL(KVM_CHECK_EXTENSION) IOCTL(KVM_GET_VCPU_MMAP_SIZE)
            IOCTL(KVM_GET_SUPPORTED_CPUID) IOCTL(KVM_CREATE_VCPU) IOCTL(KVM_SET_USER_MEMORY_REGION) IOCTL(KVM_SET_TSS_ADDR)
            IOCTL(KVM_SET_IDENTITY_MAP_ADDR) IOCTL(KVM_CREATE_IRQCHIP) IOCTL(KVM_IRQ_LINE) IOCTL(KVM_REGISTER_COALESCED_MMIO)
            IOCTL(KVM_UNREGISTER_COALESCED_MMIO) IOCTL(KVM_CREATE_PIT2) IOCTL(KVM_IOEVENTFD) IOCTL(KVM_SIGNAL_MSI)
            IOCTL(KVM_RUN) IOCTL(KVM_GET_REGS) IOCTL(KVM_SET_REGS) IOCTL(KVM_GET_SREGS) IOCTL(KVM_SET_SREGS)
            IOCTL(KVM_SET_CPUID2) IOCTL(KVM_SET_GUEST_DEBUG) IOCTL(KVM_API_VERSION) IOCTL(KVM_GET_MP_STATE) IOCTL(KVM_SET_MP_STATE)
            IOCTL(KVM_GUESTDBG_ENABLE) IOCTL(KVM_GUESTDBG_SINGLESTEP) IOCTL(KVM_GUESTDBG_USE_HW_BP)
            IOCTL(KVM_IOEVENTFD_FLAG_PIO) IOCTL(KVM_IOEVENTFD_FLAG_DATAMATCH) IOCTL(KVM_IOEVENTFD_FLAG_DEASSIGN)
            IOCTL(KVM_SYNC_X86_REGS) IOCTL(KVM_MEM_READONLY) IOCTL(KVM_GET_STATS_FD) IOCTL(KVM_CAP_BINARY_STATS_FD)
            IOCTL(KVM_STATS_TYPE_CUMULATIVE) IOCTL(KVM_STATS_TYPE_INSTANT) IOCTL(KVM_STATS_TYPE_PEAK)
            IOCTL(KVM_STATS_TYPE_LINEAR_HIST) IOCTL(KVM_STATS_TYPE_LOG_HIST) IOCTL(KVM_STATS_UNIT_BYTES)
            IOCTL(KVM_STATS_UNIT_SECONDS) IOCTL(KVM_STATS_UNIT_CYCLES) IOCTL(KVM_STATS_BASE_POW2)
            return 0;
        }
        """;

    private static readonly Lazy<Dictionary<string, ulong>> Facts = new(CompileAndRun);

    public static TheoryData<string, int> Sizes() => new()
    {
        { "kvm_run", Unsafe.SizeOf<kvm_run>() },
        { "kvm_regs", Unsafe.SizeOf<kvm_regs>() },
        { "kvm_sregs", Unsafe.SizeOf<kvm_sregs>() },
        { "kvm_segment", Unsafe.SizeOf<kvm_segment>() },
        { "kvm_dtable", Unsafe.SizeOf<kvm_dtable>() },
        { "kvm_userspace_memory_region", Unsafe.SizeOf<kvm_userspace_memory_region>() },
        { "kvm_guest_debug", Unsafe.SizeOf<kvm_guest_debug>() },
        { "kvm_ioeventfd", Unsafe.SizeOf<kvm_ioeventfd>() },
        { "kvm_coalesced_mmio_zone", Unsafe.SizeOf<kvm_coalesced_mmio_zone>() },
        { "kvm_coalesced_mmio", Unsafe.SizeOf<kvm_coalesced_mmio>() },
        { "kvm_coalesced_mmio_ring", Unsafe.SizeOf<kvm_coalesced_mmio_ring>() },
        { "kvm_msi", Unsafe.SizeOf<kvm_msi>() },
        { "kvm_irq_level", Unsafe.SizeOf<kvm_irq_level>() },
        { "kvm_pit_config", Unsafe.SizeOf<kvm_pit_config>() },
        { "kvm_cpuid2", Unsafe.SizeOf<kvm_cpuid2>() },
        { "kvm_cpuid_entry2", Unsafe.SizeOf<kvm_cpuid_entry2>() },
        { "kvm_debug_exit_arch", Unsafe.SizeOf<kvm_debug_exit_arch>() },
        { "kvm_stats_header", KvmLab.Kvm.Stats.KvmStatsFile.HeaderSize },
        { "kvm_stats_desc", KvmLab.Kvm.Stats.KvmStatsFile.DescriptorFixedSize },
    };

    public static TheoryData<string, int> Offsets() => new()
    {
        { "kvm_run.immediate_exit", Offset<kvm_run>("immediate_exit") },
        { "kvm_run.exit_reason", Offset<kvm_run>("exit_reason") },
        { "kvm_run.io", Offset<kvm_run>("io") },
        { "kvm_run.mmio", Offset<kvm_run>("mmio") },
        { "kvm_run.kvm_valid_regs", Offset<kvm_run>("kvm_valid_regs") },
        { "kvm_run.kvm_dirty_regs", Offset<kvm_run>("kvm_dirty_regs") },
        { "kvm_run.s", Offset<kvm_run>("s") },
        { "kvm_sregs.gdt", Offset<kvm_sregs>("gdt") },
        { "kvm_sregs.cr0", Offset<kvm_sregs>("cr0") },
        { "kvm_sregs.efer", Offset<kvm_sregs>("efer") },
        { "kvm_sregs.interrupt_bitmap", Offset<kvm_sregs>("interrupt_bitmap") },
        { "kvm_regs.rip", Offset<kvm_regs>("rip") },
        { "kvm_segment.type", Offset<kvm_segment>("type") },
        { "kvm_segment.unusable", Offset<kvm_segment>("unusable") },
        { "kvm_ioeventfd.fd", Offset<kvm_ioeventfd>("fd") },
        { "kvm_ioeventfd.flags", Offset<kvm_ioeventfd>("flags") },
        { "kvm_coalesced_mmio.data", Offset<kvm_coalesced_mmio>("data") },
        { "kvm_cpuid_entry2.edx", Offset<kvm_cpuid_entry2>("edx") },
        { "kvm_guest_debug.arch", Offset<kvm_guest_debug>("debugreg") },
        { "kvm_run_io.data_offset", Offset<kvm_run_io>("data_offset") },
        { "kvm_run_mmio.data", Offset<kvm_run_mmio>("data") },
        { "kvm_run_mmio.is_write", Offset<kvm_run_mmio>("is_write") },
        { "kvm_stats_header.name_size", KvmLab.Kvm.Stats.KvmStatsFile.HeaderNameSize },
        { "kvm_stats_header.num_desc", KvmLab.Kvm.Stats.KvmStatsFile.HeaderCount },
        { "kvm_stats_header.id_offset", KvmLab.Kvm.Stats.KvmStatsFile.HeaderIdOffset },
        { "kvm_stats_header.desc_offset", KvmLab.Kvm.Stats.KvmStatsFile.HeaderDescOffset },
        { "kvm_stats_header.data_offset", KvmLab.Kvm.Stats.KvmStatsFile.HeaderDataOffset },
        { "kvm_stats_desc.exponent", KvmLab.Kvm.Stats.KvmStatsFile.DescExponent },
        { "kvm_stats_desc.size", KvmLab.Kvm.Stats.KvmStatsFile.DescSize },
        { "kvm_stats_desc.offset", KvmLab.Kvm.Stats.KvmStatsFile.DescOffset },
        { "kvm_stats_desc.bucket_size", KvmLab.Kvm.Stats.KvmStatsFile.DescBucketSize },
        { "kvm_stats_desc.name", KvmLab.Kvm.Stats.KvmStatsFile.DescriptorFixedSize },
    };

    public static TheoryData<string, ulong> Constants() => new()
    {
        { "KVM_GET_API_VERSION", KvmIoctls.KVM_GET_API_VERSION },
        { "KVM_CREATE_VM", KvmIoctls.KVM_CREATE_VM },
        { "KVM_CHECK_EXTENSION", KvmIoctls.KVM_CHECK_EXTENSION },
        { "KVM_GET_VCPU_MMAP_SIZE", KvmIoctls.KVM_GET_VCPU_MMAP_SIZE },
        { "KVM_GET_SUPPORTED_CPUID", KvmIoctls.KVM_GET_SUPPORTED_CPUID },
        { "KVM_CREATE_VCPU", KvmIoctls.KVM_CREATE_VCPU },
        { "KVM_SET_USER_MEMORY_REGION", KvmIoctls.KVM_SET_USER_MEMORY_REGION },
        { "KVM_SET_TSS_ADDR", KvmIoctls.KVM_SET_TSS_ADDR },
        { "KVM_SET_IDENTITY_MAP_ADDR", KvmIoctls.KVM_SET_IDENTITY_MAP_ADDR },
        { "KVM_CREATE_IRQCHIP", KvmIoctls.KVM_CREATE_IRQCHIP },
        { "KVM_IRQ_LINE", KvmIoctls.KVM_IRQ_LINE },
        { "KVM_REGISTER_COALESCED_MMIO", KvmIoctls.KVM_REGISTER_COALESCED_MMIO },
        { "KVM_UNREGISTER_COALESCED_MMIO", KvmIoctls.KVM_UNREGISTER_COALESCED_MMIO },
        { "KVM_CREATE_PIT2", KvmIoctls.KVM_CREATE_PIT2 },
        { "KVM_IOEVENTFD", KvmIoctls.KVM_IOEVENTFD },
        { "KVM_SIGNAL_MSI", KvmIoctls.KVM_SIGNAL_MSI },
        { "KVM_RUN", KvmIoctls.KVM_RUN },
        { "KVM_GET_MP_STATE", KvmIoctls.KVM_GET_MP_STATE },
        { "KVM_SET_MP_STATE", KvmIoctls.KVM_SET_MP_STATE },
        { "KVM_GET_REGS", KvmIoctls.KVM_GET_REGS },
        { "KVM_SET_REGS", KvmIoctls.KVM_SET_REGS },
        { "KVM_GET_SREGS", KvmIoctls.KVM_GET_SREGS },
        { "KVM_SET_SREGS", KvmIoctls.KVM_SET_SREGS },
        { "KVM_SET_CPUID2", KvmIoctls.KVM_SET_CPUID2 },
        { "KVM_SET_GUEST_DEBUG", KvmIoctls.KVM_SET_GUEST_DEBUG },
        { "KVM_API_VERSION", KvmIoctls.KVM_API_VERSION },
        { "KVM_GUESTDBG_ENABLE", KvmIoctls.KVM_GUESTDBG_ENABLE },
        { "KVM_GUESTDBG_SINGLESTEP", KvmIoctls.KVM_GUESTDBG_SINGLESTEP },
        { "KVM_GUESTDBG_USE_HW_BP", KvmIoctls.KVM_GUESTDBG_USE_HW_BP },
        { "KVM_IOEVENTFD_FLAG_PIO", KvmIoctls.KVM_IOEVENTFD_FLAG_PIO },
        { "KVM_IOEVENTFD_FLAG_DATAMATCH", KvmIoctls.KVM_IOEVENTFD_FLAG_DATAMATCH },
        { "KVM_IOEVENTFD_FLAG_DEASSIGN", KvmIoctls.KVM_IOEVENTFD_FLAG_DEASSIGN },
        { "KVM_SYNC_X86_REGS", KvmIoctls.KVM_SYNC_X86_REGS },
        { "KVM_MEM_READONLY", KvmIoctls.KVM_MEM_READONLY },
        { "KVM_GET_STATS_FD", KvmIoctls.KVM_GET_STATS_FD },
        { "KVM_CAP_BINARY_STATS_FD", (ulong)KvmLab.Kvm.KvmCapability.BinaryStatsFd },
        { "KVM_STATS_TYPE_CUMULATIVE", (ulong)KvmLab.Kvm.Stats.KvmStatKind.Cumulative },
        { "KVM_STATS_TYPE_INSTANT", (ulong)KvmLab.Kvm.Stats.KvmStatKind.Instant },
        { "KVM_STATS_TYPE_PEAK", (ulong)KvmLab.Kvm.Stats.KvmStatKind.Peak },
        { "KVM_STATS_TYPE_LINEAR_HIST", (ulong)KvmLab.Kvm.Stats.KvmStatKind.LinearHistogram },
        { "KVM_STATS_TYPE_LOG_HIST", (ulong)KvmLab.Kvm.Stats.KvmStatKind.LogHistogram },
        { "KVM_STATS_UNIT_BYTES", (ulong)KvmLab.Kvm.Stats.KvmStatUnit.Bytes << 4 },
        { "KVM_STATS_UNIT_SECONDS", (ulong)KvmLab.Kvm.Stats.KvmStatUnit.Seconds << 4 },
        { "KVM_STATS_UNIT_CYCLES", (ulong)KvmLab.Kvm.Stats.KvmStatUnit.Cycles << 4 },
        { "KVM_STATS_BASE_POW2", 1UL << 8 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void StructSizeMatchesTheKernelHeader(string name, int size) => Assert.Equal(Facts.Value[$"size {name}"], (ulong)size);

    [Theory]
    [MemberData(nameof(Offsets))]
    public void FieldOffsetMatchesTheKernelHeader(string name, int offset) => Assert.Equal(Facts.Value[$"offset {name}"], (ulong)offset);

    [Theory]
    [MemberData(nameof(Constants))]
    public void IoctlNumberOrConstantMatchesTheKernelHeader(string name, ulong value) => Assert.Equal(Facts.Value[$"ioctl {name}"], value);

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    private static Dictionary<string, ulong> CompileAndRun()
    {
        string dir = Directory.CreateTempSubdirectory("kvmlab-kvmh-").FullName;
        try
        {
            string source = Path.Combine(dir, "probe.c");
            string binary = Path.Combine(dir, "probe");
            File.WriteAllText(source, Probe);
            Exec("gcc", $"-O0 -o {binary} {source}");
            return Exec(binary, "")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' '))
                .ToDictionary(parts => $"{parts[0]} {parts[1]}", parts => ulong.Parse(parts[2]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Exec(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {arguments} failed: {error}");
        return output;
    }
}
