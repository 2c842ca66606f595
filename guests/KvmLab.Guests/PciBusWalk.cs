using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace KvmLab.Guests;

/// <summary>
/// Firmware's walk over every PCI function, shared by the guests that enumerate: device by device, functions 1..7
/// only behind a multi-function function 0; bus 0 alone (pci-scan), or bus by bus with the buses bridges were given.
/// </summary>
internal static class PciBusWalk
{
    /// <summary>
    /// Emits the walk through <paramref name="method"/>: for each present function <paramref name="visit"/> runs with
    /// EBP = the function's config address and ECX = its vendor/device dword, and must keep EBP and leave DL = its
    /// header type. With <paramref name="assignBuses"/> each bridge then gets bus numbers (printed after
    /// <paramref name="bridgeReport"/> when one is given), so the buses behind it are walked too. Jumps to
    /// <paramref name="done"/> after the last bus.
    /// </summary>
    public static void Emit(GuestAssembler g, PciAccessMethod method, Action visit, bool assignBuses, string? bridgeReport, Label done)
    {
        var lastBus = g.Reserve(4);
        Walk(g, method, visit, () =>
        {
            if (assignBuses)
                AssignBusNumbers(g, method, lastBus, bridgeReport);
        }, lastBus, done);
    }

    /// <summary>
    /// Emits the same walk over bus 0 only (no bridges followed, as pci-scan teaches it): <paramref name="visit"/> as in
    /// <see cref="Emit"/>; falls through after device 31.
    /// </summary>
    public static void EmitBusZero(GuestAssembler g, PciAccessMethod method, Action visit)
    {
        var done = g.Asm.CreateLabel();
        Walk(g, method, visit, afterVisit: null, lastBus: null, done);
        g.Asm.Label(ref done);
    }

    // Devices by 0x800, functions by 0x100 in EBP; with lastBus, every bus up to the last one assigned, else bus 0.
    private static void Walk(GuestAssembler g, PciAccessMethod method, Action visit, Action? afterVisit, Label? lastBus, Label done)
    {
        var a = g.Asm;
        var function = a.CreateLabel();
        var absent = a.CreateLabel();
        var nextFunction = a.CreateLabel();
        var nextDevice = a.CreateLabel();
        var busDone = a.CreateLabel();

        a.xor(ebp, ebp);
        a.Label(ref function);
        a.mov(eax, ebp);
        g.ConfigRead32(method);
        a.cmp(ax, 0xFFFF);
        a.je(absent);
        a.mov(ecx, eax);
        visit();
        afterVisit?.Invoke();

        // After a present function 0 that is not multi-function, functions 1..7 are not probed.
        a.test(ebp, 0x700);
        a.jnz(nextFunction);
        a.test(dl, 0x80);
        a.jz(nextDevice);
        a.Label(ref nextFunction);
        if (lastBus is null)
        {
            // On bus 0 alone, function 7 + 1 is the next device's function 0.
            a.add(ebp, 0x100);
            a.cmp(ebp, 32 << 11);
            a.jb(function);
            a.jmp(done);
        }
        else
        {
            a.mov(eax, ebp);
            a.and(eax, 0xFFFF);
            a.cmp(eax, 0xFF00);
            a.jae(busDone);
            a.add(ebp, 0x100);
            a.jmp(function);
        }
        a.Label(ref absent);
        a.test(ebp, 0x700);
        a.jnz(nextFunction);
        a.Label(ref nextDevice);
        a.and(ebp, ~0x7FF);
        a.add(ebp, 0x800);
        if (lastBus is not { } last)
        {
            a.cmp(ebp, 32 << 11);
            a.jb(function);
            return;
        }
        a.test(ebp, 0xFFFF);
        a.jnz(function);
        a.sub(ebp, 0x1_0000);
        a.Label(ref busDone);
        // Next bus: EBP = (bus + 1) << 16 while bus + 1 <= last assigned bus.
        a.and(ebp, 0xFF_0000);
        a.add(ebp, 0x1_0000);
        g.LoadAddressOf(eax, last);
        a.mov(eax, g.At(eax));
        a.shl(eax, 16);
        a.cmp(ebp, eax);
        a.jbe(function);
        a.jmp(done);
    }

    /// <summary>Emits: print "BB:DD.F " for the function at EBP.</summary>
    public static void PrintAddress(GuestAssembler g)
    {
        var a = g.Asm;
        a.mov(eax, ebp);
        a.shr(eax, 16);
        g.PrintHex(2);
        g.Print(":");
        a.mov(eax, ebp);
        a.shr(eax, 11);
        a.and(eax, 0x1F);
        g.PrintHex(2);
        g.Print(".");
        a.mov(eax, ebp);
        a.shr(eax, 8);
        a.and(eax, 7);
        g.PrintHex(1);
        g.Print(" ");
    }

    // For a type-1 header (DL & 0x7F == 1): primary = this bus, secondary = subordinate = ++lastBus (one level of
    // bridges, as behind q35's root ports sits one link).
    private static void AssignBusNumbers(GuestAssembler g, PciAccessMethod method, Label lastBus, string? report)
    {
        var a = g.Asm;
        var notBridge = a.CreateLabel();
        a.mov(al, dl);
        a.and(al, 0x7F);
        a.cmp(al, 1);
        a.jne(notBridge);
        g.LoadAddressOf(ecx, lastBus);
        a.mov(eax, g.At(ecx));
        a.inc(eax);
        a.mov(g.At(ecx), eax);
        // EBX = subordinate << 16 | secondary << 8 | primary
        a.mov(ebx, eax);
        a.shl(ebx, 8);
        a.or(ebx, eax);
        a.shl(ebx, 8);
        a.mov(ecx, ebp);
        a.shr(ecx, 16);
        a.and(ecx, 0xFF);
        a.or(ebx, ecx);
        a.lea(eax, __[ebp + 0x18]);
        g.ConfigWrite32(method);
        if (report is not null)
        {
            g.Print(report);
            a.mov(eax, ebx);
            g.PrintHex(6);
            g.PrintLine("");
        }

        a.Label(ref notBridge);
    }
}
