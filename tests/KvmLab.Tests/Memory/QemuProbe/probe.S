# Flat -bios probe that measured QEMU 7.2 corner cases (see README.md next to it). It copies itself to RAM
# at 0x10000 so that the protected-mode half also runs under -accel kvm.
.intel_syntax noprefix
.code16
.org 0
start:
    cli
    mov ax, 0xF000
    mov ds, ax
    mov ax, 0x1000
    mov es, ax
    xor si, si
    xor di, di
    mov cx, 0x4000
    cld
    rep movsd
    .byte 0xEA
    .word start2
    .word 0x1000
start2:
    mov dx, 0x1234
    in eax, dx
    call put32            # 1: unassigned port dword
    mov dx, 0x1234
    xor eax, eax
    in al, dx
    call put32            # 2: unassigned port byte (eax upper zero)
    mov ax, 0xA000
    mov ds, ax
    mov eax, dword ptr ds:[0]
    call put32            # 3: unassigned memory dword (A0000)
    mov eax, 0x80001000   # edu at 00:02.0 vendor/device
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in eax, dx
    call put32            # 4: edu id dword
    mov dx, 0xCFE
    xor eax, eax
    in ax, dx
    call put32            # 5: word at CFE
    mov dx, 0xCFD
    in eax, dx
    call put32            # 6: dword at CFD (straddle)
    mov dx, 0xCF8
    xor eax, eax
    in ax, dx
    call put32            # 7: word read of CF8
    mov dx, 0xCFA
    xor eax, eax
    in ax, dx
    call put32            # 8: word read of CFA
    mov eax, 0x8000F800   # 00:1f.0 absent
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    in eax, dx
    call put32            # 9: absent function
    mov ax, 0x1234        # word write to CF8 should be ignored
    mov dx, 0xCF8
    out dx, ax
    in eax, dx
    call put32            # 10: CF8 after word write
    # program edu BAR0 = 0xE0000000, enable memory
    mov eax, 0x80001010
    mov dx, 0xCF8
    out dx, eax
    mov eax, 0xE0000000
    mov dx, 0xCFC
    out dx, eax
    mov eax, 0x80001004
    mov dx, 0xCF8
    out dx, eax
    mov ax, 0x0002
    mov dx, 0xCFC
    out dx, ax
    mov eax, 0x80001000   # edu status/command dword
    mov dx, 0xCF8
    out dx, eax
    # enter protected mode
    lgdt cs:[gdtr]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    .byte 0x66, 0xEA
    .long 0x10000 + pm32
    .word 0x08
put32:
    push cx
    push dx
    mov cx, 4
    mov dx, 0x3F8
1:  out dx, al
    ror eax, 8
    loop 1b
    pop dx
    pop cx
    ret
.balign 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF
    .quad 0x00CF92000000FFFF
gdtr:
    .word 23
    .long 0x10000 + gdt
.code32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7000
    mov eax, [0xE0000000]
    call p32              # 11: edu id dword
    xor eax, eax
    mov al, [0xE0000000]
    call p32              # 12: edu byte read
    xor eax, eax
    mov ax, [0xE0000004]
    call p32              # 13: edu word read
    mov eax, [0xE0000002]
    call p32              # 14: edu unaligned dword
    mov eax, [0xE0000084]
    call p32              # 15: edu 0x84 dword (no register)
    mov eax, [0xD0000000]
    call p32              # 16: unassigned in pci hole
    mov eax, [0x7FFFFFE]
    call p32              # 17: above 16MiB RAM end? 
    mov dword ptr [0xE0000004], 0x12345678
    mov eax, [0xE0000004]
    call p32              # 18: liveness
    mov word ptr [0xE0000004], 0x1111
    mov eax, [0xE0000004]
    call p32              # 19: liveness after word write (ignored?)
    mov al, 0x00
    mov dx, 0x501
    out dx, al
    hlt
p32:
    push ecx
    push edx
    mov ecx, 4
    mov dx, 0x3F8
1:  out dx, al
    ror eax, 8
    loop 1b
    pop edx
    pop ecx
    ret
.org 0xFFF0
    .byte 0xEA
    .word start
    .word 0xF000
.org 0x10000
