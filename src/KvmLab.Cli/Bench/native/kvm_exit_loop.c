/*
 * The reference for KvmLab's exit-cost benchmark: the cheapest possible VMM loop in C.
 * A real-mode guest exits forever, either with `out dx,al; jmp` to port 0xCFC (pio: the PCI conf1 data port,
 * which a KvmLab Machine dispatches to its PCI host) or with a store to the first byte past its 1 MiB of RAM
 * (mmio: an address nothing claims, so a Machine dispatches it and drops it). A Machine with 1 MiB of RAM runs the
 * very same bytes from the very same address, in a VM configured as a Machine's (in-kernel irqchip and PIT), which
 * is what makes the comparison fair. Each exit the loop checks the reason, reads the port or address and the value written, and
 * reads RIP from the sync-regs copy in kvm_run: the work KvmLab's Vcpu.Run() loop does on the C# side.
 *
 * usage: kvm_exit_loop pio|mmio EXITS   -> prints "ns_per_exit <value>" and "checksum <value>"
 *
 * It is also the reference for creating and disposing a machine: the same kernel calls a KvmLab Machine makes
 * (VM, optional in-kernel irqchip and PIT, TSS and identity-map pages, 16 MiB of RAM in slot 0, vCPU and its kvm_run
 * mapping), then close and munmap. CPUID setup is left out, so the reference is, if anything, cheaper. Measured the
 * way KvmLab's figure is: one untimed create first, then ROUNDS creates in the same process, each timed on its own.
 *
 * usage: kvm_exit_loop create irqchip|noirqchip [ROUNDS]   -> prints "ms_per_create <value>" per round
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE 0x100000UL       /* 1 MiB at guest-physical 0 (the smallest Machine): 0x100000 and above is MMIO */
#define LOAD_ADDRESS 0x10000UL    /* PcLayout.DefaultRealModeLoadAddress: CS = 0x1000, IP = 0 */
#define STACK_TOP 0x7FF0UL        /* PcLayout.DefaultStackTop */

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double create_and_dispose(int irqchip)
{
    const size_t ram_size = 16UL << 20;
    uint64_t start = now_ns();
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");
    if (irqchip) {
        struct kvm_pit_config pit = { .flags = 0 };
        if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
            die("KVM_CREATE_IRQCHIP");
        if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
            die("KVM_CREATE_PIT2");
    }
    uint64_t identity_map = 0xFEFFC000UL;
    if (ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0)
        die("KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xFEFFD000UL) < 0)
        die("KVM_SET_TSS_ADDR");
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        die("mmap guest RAM");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uint64_t)(uintptr_t)ram,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    void *run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");
    munmap(run, (size_t)mmap_size);
    close(vcpu);
    close(vm);
    munmap(ram, ram_size);
    close(kvm);
    return (double)(now_ns() - start) / 1e6;
}

int main(int argc, char **argv)
{
    /* mov dx,0xCFC ; l: out dx,al ; jmp l */
    static const uint8_t pio_guest[] = { 0xBA, 0xFC, 0x0C, 0xEE, 0xEB, 0xFD };
    /* mov ax,0xFFFF ; mov ds,ax ; l: mov [0x10],al ; jmp l   (stores to 0xFFFF0 + 0x10 = 0x100000, the first byte past RAM) */
    static const uint8_t mmio_guest[] = { 0xB8, 0xFF, 0xFF, 0x8E, 0xD8, 0xA2, 0x10, 0x00, 0xEB, 0xFB };

    if ((argc == 3 || argc == 4) && strcmp(argv[1], "create") == 0) {
        int irqchip = strcmp(argv[2], "irqchip") == 0;
        long rounds = argc == 4 ? atol(argv[3]) : 1;
        if (argc == 4)
            create_and_dispose(irqchip);
        for (long i = 0; i < rounds; i++)
            printf("ms_per_create %.4f\n", create_and_dispose(irqchip));
        return 0;
    }
    if (argc != 3 || (strcmp(argv[1], "pio") != 0 && strcmp(argv[1], "mmio") != 0)) {
        fprintf(stderr, "usage: %s pio|mmio EXITS | %s create irqchip|noirqchip [ROUNDS]\n", argv[0], argv[0]);
        return 2;
    }
    int is_pio = strcmp(argv[1], "pio") == 0;
    long exits = atol(argv[2]);

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        die("KVM_CREATE_VM");
    /* Like a default Machine (and QEMU under KVM): the in-kernel PIC/IOAPIC/LAPIC and PIT take part in every entry. */
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
        die("KVM_CREATE_IRQCHIP");
    struct kvm_pit_config pit = { .flags = 0 };
    if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
        die("KVM_CREATE_PIT2");
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xFEFFD000UL) < 0)
        die("KVM_SET_TSS_ADDR");

    uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        die("mmap guest RAM");
    if (is_pio)
        memcpy(ram + LOAD_ADDRESS, pio_guest, sizeof pio_guest);
    else
        memcpy(ram + LOAD_ADDRESS, mmio_guest, sizeof mmio_guest);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE, .userspace_addr = (uint64_t)(uintptr_t)ram,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION");

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        die("KVM_CREATE_VCPU");
    int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS");
    sregs.cs.selector = sregs.ds.selector = sregs.es.selector = LOAD_ADDRESS >> 4;
    sregs.cs.base = sregs.ds.base = sregs.es.base = LOAD_ADDRESS;
    sregs.ss.selector = 0;
    sregs.ss.base = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = 0, .rflags = 2, .rsp = STACK_TOP };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS");
    run->kvm_valid_regs = KVM_SYNC_X86_REGS;

    uint32_t expected = is_pio ? KVM_EXIT_IO : KVM_EXIT_MMIO;
    uint64_t checksum = 0;
    long warmup = exits / 10;
    uint64_t start = 0;
    for (long i = -warmup; i < exits; i++) {
        if (i == 0)
            start = now_ns();
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            die("KVM_RUN");
        if (run->exit_reason != expected) {
            fprintf(stderr, "unexpected exit reason %u\n", run->exit_reason);
            return 1;
        }
        /* Decode what Vcpu.Run() decodes: the port or address and the value written. */
        if (is_pio)
            checksum += run->io.port + *((uint8_t *)run + run->io.data_offset);
        else
            checksum += run->mmio.phys_addr + run->mmio.data[0] + run->mmio.len;
        checksum += run->s.regs.regs.rip;
    }
    uint64_t elapsed = now_ns() - start;
    printf("ns_per_exit %.1f\n", (double)elapsed / (double)exits);
    printf("checksum %llu\n", (unsigned long long)checksum);
    return 0;
}
