namespace KvmLab.Tests.Qemu;

/// <summary>Trace text captured from Debian QEMU 7.2.22 on this machine (kvm_pvm) running the images in <see cref="BiosImages"/>.</summary>
internal static class CapturedTraces
{
    /// <summary>BiosImages.Hello under -accel kvm with edu and pci-testdev: serial "hi\\n", two conf1 reads, debug-exit 0x21.</summary>
    public const string HelloKvm = """
        14589@1795616848.227933:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.227985:memory_region_ops_read cpu 0 mr 0x555dd6975640 addr 0x3fd value 0x60 size 1 name 'serial'
        14589@1795616848.228007:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228009:memory_region_ops_write cpu 0 mr 0x555dd6975640 addr 0x3f8 value 0x68 size 1 name 'serial'
        14589@1795616848.228036:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228038:memory_region_ops_read cpu 0 mr 0x555dd6975640 addr 0x3fd value 0x60 size 1 name 'serial'
        14589@1795616848.228049:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228051:memory_region_ops_write cpu 0 mr 0x555dd6975640 addr 0x3f8 value 0x69 size 1 name 'serial'
        14589@1795616848.228066:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228068:memory_region_ops_read cpu 0 mr 0x555dd6975640 addr 0x3fd value 0x60 size 1 name 'serial'
        14589@1795616848.228079:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228081:memory_region_ops_write cpu 0 mr 0x555dd6975640 addr 0x3f8 value 0xa size 1 name 'serial'
        14589@1795616848.228097:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228099:memory_region_ops_write cpu 0 mr 0x555dd6ab4e20 addr 0xcf8 value 0x80000000 size 4 name 'pci-conf-idx'
        14589@1795616848.228108:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228113:memory_region_ops_read cpu 0 mr 0x555dd6ab4f30 addr 0xcfc value 0x12378086 size 4 name 'pci-conf-data'
        14589@1795616848.228123:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228125:memory_region_ops_write cpu 0 mr 0x555dd6ab4e20 addr 0xcf8 value 0x80001000 size 4 name 'pci-conf-idx'
        14589@1795616848.228134:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228136:memory_region_ops_read cpu 0 mr 0x555dd6ab4f30 addr 0xcfc value 0x11e81234 size 4 name 'pci-conf-data'
        14589@1795616848.228147:kvm_run_exit cpu_index 0, reason 2
        14589@1795616848.228149:memory_region_ops_write cpu 0 mr 0x555dd6a130b0 addr 0x501 value 0x21 size 1 name 'isa-debug-exit'
        """;

    /// <summary>The same image under -accel tcg: no kvm_run_exit lines, and an apic-msi write from outside any vCPU (cpu -1).</summary>
    public const string HelloTcg = """
        14596@1795616848.269999:memory_region_ops_write cpu -1 mr 0x55c3113d84a0 addr 0xfee00000 value 0x0 size 4 name 'apic-msi'
        14598@1795616848.271100:memory_region_ops_read cpu 0 mr 0x55c3112d2640 addr 0x3fd value 0x60 size 1 name 'serial'
        14598@1795616848.271116:memory_region_ops_write cpu 0 mr 0x55c3112d2640 addr 0x3f8 value 0x68 size 1 name 'serial'
        14598@1795616848.271133:memory_region_ops_read cpu 0 mr 0x55c3112d2640 addr 0x3fd value 0x60 size 1 name 'serial'
        14598@1795616848.271135:memory_region_ops_write cpu 0 mr 0x55c3112d2640 addr 0x3f8 value 0x69 size 1 name 'serial'
        14598@1795616848.271137:memory_region_ops_read cpu 0 mr 0x55c3112d2640 addr 0x3fd value 0x60 size 1 name 'serial'
        14598@1795616848.271138:memory_region_ops_write cpu 0 mr 0x55c3112d2640 addr 0x3f8 value 0xa size 1 name 'serial'
        14598@1795616848.271155:memory_region_ops_write cpu 0 mr 0x55c3114b2720 addr 0xcf8 value 0x80000000 size 4 name 'pci-conf-idx'
        14598@1795616848.271159:memory_region_ops_read cpu 0 mr 0x55c3114b2830 addr 0xcfc value 0x12378086 size 4 name 'pci-conf-data'
        14598@1795616848.271160:memory_region_ops_write cpu 0 mr 0x55c3114b2720 addr 0xcf8 value 0x80001000 size 4 name 'pci-conf-idx'
        14598@1795616848.271162:memory_region_ops_read cpu 0 mr 0x55c3114b2830 addr 0xcfc value 0x11e81234 size 4 name 'pci-conf-data'
        14598@1795616848.271164:memory_region_ops_write cpu 0 mr 0x55c3113d10b0 addr 0x501 value 0x21 size 1 name 'isa-debug-exit'
        """;

    /// <summary>
    /// The tail of a probe under -accel kvm (edu BAR0 at 0xe0000000; each value read is then sent to COM1 as four
    /// bytes): edu ID read (4 bytes), edu ID read as 1 and as 2 bytes (rejected: bare MMIO exits), liveness write and
    /// read, a 1-byte liveness write (rejected), a 1-byte read, 4- and 1-byte reads of unassigned 0xd0000000 (bare MMIO
    /// exits), 4- and 1-byte reads of unassigned port 0x1234 (served by the root 'io' region), debug-exit 0x21.
    /// </summary>
    public const string ProbeKvmTail = """
        14605@1795616848.323371:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323373:memory_region_ops_read cpu 0 mr 0x5648de59a6b0 addr 0xe0000000 value 0x10000ed size 4 name 'edu-mmio'
        14605@1795616848.323383:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323385:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xed size 1 name 'serial'
        14605@1795616848.323396:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323398:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323410:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323411:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323423:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323425:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x1 size 1 name 'serial'
        14605@1795616848.323437:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323447:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323449:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323461:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323462:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323474:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323476:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323487:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323489:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323501:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323511:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323513:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323525:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323527:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323541:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323543:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323555:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323556:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323569:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323571:memory_region_ops_write cpu 0 mr 0x5648de59a6b0 addr 0xe0000004 value 0x12345678 size 4 name 'edu-mmio'
        14605@1795616848.323580:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323582:memory_region_ops_read cpu 0 mr 0x5648de59a6b0 addr 0xe0000004 value 0xedcba987 size 4 name 'edu-mmio'
        14605@1795616848.323591:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323593:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x87 size 1 name 'serial'
        14605@1795616848.323605:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323607:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xa9 size 1 name 'serial'
        14605@1795616848.323618:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323620:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xcb size 1 name 'serial'
        14605@1795616848.323631:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323633:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xed size 1 name 'serial'
        14605@1795616848.323645:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323654:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323656:memory_region_ops_read cpu 0 mr 0x5648de59a6b0 addr 0xe0000004 value 0xedcba987 size 4 name 'edu-mmio'
        14605@1795616848.323666:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323668:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x87 size 1 name 'serial'
        14605@1795616848.323679:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323681:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xa9 size 1 name 'serial'
        14605@1795616848.323692:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323694:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xcb size 1 name 'serial'
        14605@1795616848.323744:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323747:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xed size 1 name 'serial'
        14605@1795616848.323759:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323770:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323771:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323783:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323785:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323796:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323798:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323809:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323811:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323823:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323834:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323836:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323847:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323849:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323861:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323862:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323874:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323876:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323888:kvm_run_exit cpu_index 0, reason 6
        14605@1795616848.323898:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323900:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x0 size 1 name 'serial'
        14605@1795616848.323915:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323917:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323928:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323930:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323942:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323943:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.323955:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323958:memory_region_ops_read cpu 0 mr 0x5648dd8d1000 addr 0x1234 value 0xffffffffffffffff size 4 name 'io'
        14605@1795616848.323968:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323969:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xff size 1 name 'serial'
        14605@1795616848.323981:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323982:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xff size 1 name 'serial'
        14605@1795616848.323994:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.323996:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xff size 1 name 'serial'
        14605@1795616848.324007:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.324009:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xff size 1 name 'serial'
        14605@1795616848.324022:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.324023:memory_region_ops_read cpu 0 mr 0x5648dd8d1000 addr 0x1234 value 0xffffffffffffffff size 1 name 'io'
        14605@1795616848.324033:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.324035:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0xff size 1 name 'serial'
        14605@1795616848.324046:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.324048:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.324060:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.324061:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.324073:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.324075:memory_region_ops_write cpu 0 mr 0x5648dd9ae640 addr 0x3f8 value 0x55 size 1 name 'serial'
        14605@1795616848.324087:kvm_run_exit cpu_index 0, reason 2
        14605@1795616848.324089:memory_region_ops_write cpu 0 mr 0x5648dda4c0b0 addr 0x501 value 0x21 size 1 name 'isa-debug-exit'
        """;
}
