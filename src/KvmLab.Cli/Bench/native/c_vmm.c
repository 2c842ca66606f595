/*
 * The floor for "process start to halt": the smallest C VMM that runs a real-mode KvmLab guest image to its end with
 * the kernel calls a KvmLab Machine makes (VM, in-kernel irqchip and PIT, TSS and identity-map pages, 16 MiB of RAM
 * in slot 0, one vCPU and its kvm_run mapping, real-mode registers), and the port I/O the library's serial-printing
 * guests need: COM1's THR prints to stdout, its LSR reads "transmitter empty", isa-debug-exit at 0x501 ends the
 * process with (value << 1) | 1 as QEMU and kvmlab run do. No devices beyond that, no tracing, no CPUID setup: if
 * anything it does less than kvmlab.
 *
 * usage: c_vmm IMAGE LOAD_ADDRESS ENTRY   (addresses in hex; real mode: CS = LOAD_ADDRESS >> 4)
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAM_SIZE (16UL << 20)
#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)
#define DEBUG_EXIT 0x501

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s IMAGE LOAD_ADDRESS ENTRY\n", argv[0]);
        return 2;
    }
    unsigned long load = strtoul(argv[2], NULL, 16), entry = strtoul(argv[3], NULL, 16);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) die("KVM_CREATE_VM");
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xFFFBD000UL) < 0) die("KVM_SET_TSS_ADDR");
    uint64_t identity = 0xFFFBC000UL;
    if (ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) die("KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0) die("KVM_CREATE_PIT2");

    uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) die("mmap RAM");
    struct kvm_userspace_memory_region slot = { .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE, .userspace_addr = (uint64_t)ram };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0) die("KVM_SET_USER_MEMORY_REGION");

    int image = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (image < 0) die("open IMAGE");
    struct stat st;
    if (fstat(image, &st) < 0 || load + (unsigned long)st.st_size > RAM_SIZE) die("image size");
    if (read(image, ram + load, st.st_size) != st.st_size) die("read IMAGE");
    close(image);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
    uint16_t segment = (uint16_t)(load >> 4);
    struct kvm_segment *segments[] = { &sregs.cs, &sregs.ds, &sregs.es, &sregs.fs, &sregs.gs, &sregs.ss };
    for (unsigned i = 0; i < sizeof segments / sizeof segments[0]; i++) {
        segments[i]->selector = segment;
        segments[i]->base = (uint64_t)segment << 4;
    }
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = entry - ((uint64_t)segment << 4), .rsp = 0xFFF0, .rflags = 2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");

    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
        if (run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "c_vmm: exit reason %u\n", run->exit_reason);
            return 1;
        }
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
            if (run->io.direction == KVM_EXIT_IO_OUT) {
                if (run->io.port == COM1) {
                    fputc(data[0], stdout);
                } else if (run->io.port == DEBUG_EXIT) {
                    uint32_t value = 0;
                    memcpy(&value, data, run->io.size);
                    fflush(stdout);
                    return (int)((value << 1) | 1);
                }
            } else {
                memset(data, 0xFF, run->io.size);
                if (run->io.port == COM1_LSR) data[0] = 0x60;
            }
        }
    }
}
