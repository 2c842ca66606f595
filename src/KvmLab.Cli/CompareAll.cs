using KvmLab.Boards;
using KvmLab.Guests;
using KvmLab.Loading;

namespace KvmLab.Cli;

/// <summary>
/// <c>kvmlab compare --all</c>: every library guest in every mode it supports, on the board it needs or, when it
/// runs on any, on both boards; one verdict line per run and an overall verdict.
/// </summary>
internal static class CompareAll
{
    /// <summary>One comparison to run.</summary>
    public sealed record Case(Guest Guest, CpuMode Mode, Board Board)
    {
        /// <inheritdoc />
        public override string ToString() => $"{Guest.Name} {Mode.ToString().ToLowerInvariant()} {Board.Name}";
    }

    /// <summary>What one comparison found.</summary>
    /// <param name="Agrees">Whether the runs agree beyond explained differences.</param>
    /// <param name="Detail">One line: exits on both sides, or the first divergences.</param>
    public sealed record Verdict(bool Agrees, string Detail);

    /// <summary>The cases, in library order: each guest's modes, each on its board or on pc and q35.</summary>
    public static IReadOnlyList<Case> Plan(IEnumerable<Guest> guests) =>
        [.. from g in guests
            from m in g.Modes
            from b in g.Board is { } name ? [Board.ByName(name)] : Board.All
            select new Case(g, m, b)];

    /// <summary>Runs every case through <paramref name="compare"/>, writes one line each and the verdict; returns
    /// the exit status (0 all agree, 1 any diverges).</summary>
    public static int Run(IReadOnlyList<Case> cases, Func<Case, Verdict> compare, TextWriter output)
    {
        var diverged = new List<Case>();
        foreach (var c in cases)
        {
            Verdict v;
            try
            {
                v = compare(c);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                v = new Verdict(false, $"failed: {e.GetType().Name}: {e.Message}");
            }

            if (!v.Agrees) diverged.Add(c);
            output.WriteLine($"{(v.Agrees ? "agree  " : "DIVERGE")} {c,-32} {v.Detail}");
        }

        output.WriteLine(diverged.Count == 0
            ? $"verdict: all {cases.Count} comparisons agree (differences explained in 'kvmlab compare GUEST')"
            : $"verdict: {diverged.Count} of {cases.Count} comparisons DIVERGE: {string.Join(", ", diverged)}");
        return diverged.Count == 0 ? 0 : 1;
    }
}
