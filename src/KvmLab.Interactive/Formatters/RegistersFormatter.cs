using System.Globalization;
using KvmLab.Kvm;

namespace KvmLab.Interactive.Formatters;

/// <summary>kvm_regs as a four-column grid of name / hex value pairs, RIP and RFLAGS first.</summary>
public sealed class RegistersFormatter : KvmLabFormatter<Registers>
{
    /// <inheritdoc />
    protected override void WriteValue(Registers value, TextWriter writer)
    {
        (string Name, ulong Value)[] all =
        [
            ("rip", value.Rip), ("rflags", value.Rflags), ("rsp", value.Rsp), ("rbp", value.Rbp),
            ("rax", value.Rax), ("rbx", value.Rbx), ("rcx", value.Rcx), ("rdx", value.Rdx),
            ("rsi", value.Rsi), ("rdi", value.Rdi), ("r8", value.R8), ("r9", value.R9),
            ("r10", value.R10), ("r11", value.R11), ("r12", value.R12), ("r13", value.R13),
            ("r14", value.R14), ("r15", value.R15),
        ];
        const int columns = 4;
        var rows = all.Chunk(columns).Select(chunk => (IReadOnlyList<string>)chunk
            .SelectMany(r => new[] { r.Name, "0x" + r.Value.ToString("x16", CultureInfo.InvariantCulture) }).ToList());
        Html.Table(writer, Enumerable.Repeat(new[] { "reg", "value" }, columns).SelectMany(h => h).ToList(), rows, "kvm_regs (KVM_GET_REGS)");
    }
}
