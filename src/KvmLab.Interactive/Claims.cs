using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace KvmLab.Interactive;

/// <summary>
/// The chapters' claims: a sentence about a measurement together with the condition that checks it. A claim that
/// holds prints <c>holds: SENTENCE   [checked: CONDITION]</c>, the condition's source text as the compiler passed it
/// (<c>[CallerArgumentExpression]</c>), so that a reader sees what was checked and a test can hold the
/// condition to the one reviewed; a claim that does not hold stops the notebook with <see cref="ClaimFailedException"/>.
/// In a notebook: <c>using static KvmLab.Interactive.Claims;</c> then <c>Claim(exits == 1000, $"... ({exits})")</c>.
/// </summary>
public static partial class Claims
{
    /// <summary>What a claim's output line starts with.</summary>
    public const string HoldsPrefix = "holds: ";

    /// <summary>What separates a claim's sentence from its condition on the output line.</summary>
    public const string ConditionMarker = "   [checked: ";

    /// <summary>Checks <paramref name="holds"/> and prints the claim with its condition, or throws when it does not hold.</summary>
    /// <param name="holds">The condition, evaluated on the measurement the sentence describes.</param>
    /// <param name="claim">The sentence, with the measured values in it.</param>
    /// <param name="condition">Filled in by the compiler: the source text of <paramref name="holds"/>.</param>
    public static void Claim(bool holds, string claim, [CallerArgumentExpression(nameof(holds))] string condition = "")
    {
        ArgumentNullException.ThrowIfNull(claim);
        var checkedText = Normalize(condition);
        if (!holds) throw new ClaimFailedException(claim, checkedText);
        Console.WriteLine($"{HoldsPrefix}{claim}{ConditionMarker}{checkedText}]");
    }

    /// <summary>A condition's source text on one line: every run of white space (line breaks, indentation) one space.</summary>
    public static string Normalize(string condition) => WhiteSpace().Replace(condition ?? "", " ").Trim();

    /// <summary>The claims in <paramref name="output"/>: each holds line's sentence and condition, in order.</summary>
    public static IReadOnlyList<(string Claim, string Condition)> Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var found = new List<(string, string)>();
        foreach (var line in output.Split('\n'))
        {
            var start = line.IndexOf(HoldsPrefix, StringComparison.Ordinal);
            if (start < 0) continue;
            var marker = line.LastIndexOf(ConditionMarker, StringComparison.Ordinal);
            if (marker < start || !line.TrimEnd().EndsWith(']')) continue;
            var body = line[(marker + ConditionMarker.Length)..].TrimEnd();
            found.Add((line[(start + HoldsPrefix.Length)..marker], body[..^1]));
        }
        return found;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}

/// <summary>A chapter's claim that did not hold on this run: the sentence and the condition that was false.</summary>
public sealed class ClaimFailedException(string claim, string condition)
    : Exception($"Claim does not hold: {claim} [checked: {condition}]")
{
    /// <summary>The sentence.</summary>
    public string Claim { get; } = claim;

    /// <summary>The condition's source text.</summary>
    public string Condition { get; } = condition;
}
