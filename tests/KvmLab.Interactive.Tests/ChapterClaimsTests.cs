using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace KvmLab.Interactive.Tests;

/// <summary>
/// Each chapter's claims are held to their reviewed conditions. chapter-claims.txt lists, per chapter, the source text
/// of the condition of every <c>Claim(condition, sentence)</c> call in its cells; a chapter whose condition was edited
/// (weakened, or only reworded) fails here until the list is updated with it, deliberately and visibly in the diff:
/// <c>KVMLAB_UPDATE_CLAIMS=1 dotnet test tests/KvmLab.Interactive.Tests --filter ChapterClaims</c>. The notebook runs
/// (<see cref="NotebookTests"/>) then check that every claim a chapter printed carries one of these conditions.
/// </summary>
public sealed class ChapterClaimsTests
{
    private static string ListPath => Path.Combine(Path.GetDirectoryName(NotebookRunner.NotebooksDirectory())!,
        "tests", "KvmLab.Interactive.Tests", "chapter-claims.txt");

    /// <summary>The reviewed conditions, per chapter file name.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Reviewed() =>
        File.ReadAllLines(ListPath).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(" | ", 2))
            .GroupBy(p => p[0], p => p[1])
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.ToList());

    /// <summary>The condition of every <c>Claim(...)</c> call in <paramref name="notebookPath"/>'s C# cells, in order.</summary>
    public static IReadOnlyList<string> ConditionsIn(string notebookPath) => ClaimsIn(CodeCells(notebookPath))
        .Select(c => Claims.Normalize(c.Condition.ToString())).ToList();

    private static IReadOnlyList<string> CodeCells(string notebookPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(notebookPath));
        return doc.RootElement.GetProperty("cells").EnumerateArray()
            .Where(cell => cell.GetProperty("cell_type").GetString() == "code")
            .Select(cell => string.Concat(cell.GetProperty("source").EnumerateArray().Select(l => l.GetString())))
            .ToList();
    }

    // Each Claim(condition, sentence) call: the cell it is in and its condition's syntax.
    private static IEnumerable<(int Cell, ExpressionSyntax Condition)> ClaimsIn(IReadOnlyList<string> cells) =>
        cells.SelectMany((source, cell) => CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(kind: SourceCodeKind.Script))
            .GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>()
            .Where(i => i.Expression is IdentifierNameSyntax { Identifier.Text: "Claim" } && i.ArgumentList.Arguments.Count >= 2)
            .Select(i => (cell, i.ArgumentList.Arguments[0].Expression)));

    private static string Render()
    {
        var lines = new List<string>
        {
            "# The condition of every Claim(condition, sentence) in each chapter, as reviewed (see ChapterClaimsTests).",
            "# Regenerate after a deliberate change: KVMLAB_UPDATE_CLAIMS=1 dotnet test tests/KvmLab.Interactive.Tests --filter ChapterClaims",
        };
        foreach (var path in Directory.GetFiles(NotebookRunner.NotebooksDirectory(), "*.ipynb").Order(StringComparer.Ordinal))
            lines.AddRange(ConditionsIn(path).Select(c => $"{Path.GetFileName(path)} | {c}"));
        return string.Join('\n', lines) + "\n";
    }

    [Fact]
    public void Every_claim_in_every_chapter_checks_the_condition_that_was_reviewed()
    {
        var now = Render();
        if (Environment.GetEnvironmentVariable("KVMLAB_UPDATE_CLAIMS") == "1") File.WriteAllText(ListPath, now);
        var reviewed = File.ReadAllText(ListPath);
        var changed = now.Split('\n').Except(reviewed.Split('\n')).ToList();
        var gone = reviewed.Split('\n').Except(now.Split('\n')).ToList();
        Assert.True(changed.Count == 0 && gone.Count == 0,
            $"claim conditions differ from chapter-claims.txt (review them, then regenerate it with KVMLAB_UPDATE_CLAIMS=1):\n" +
            string.Join('\n', changed.Select(c => "  now:      " + c).Concat(gone.Select(c => "  reviewed: " + c))));
        Assert.Equal(reviewed, now); // the same lines in the same order
    }

    // The list catches any weakening, not only the ones a reviewer thinks of: each claim of each chapter in turn is
    // replaced by one that checks nothing, and the chapter's conditions must then differ from the reviewed list.
    [Fact]
    public void Weakening_any_claim_of_any_chapter_to_a_condition_that_always_holds_differs_from_the_reviewed_list()
    {
        var reviewed = Reviewed();
        var weakened = 0;
        foreach (var path in Directory.GetFiles(NotebookRunner.NotebooksDirectory(), "*.ipynb").Order(StringComparer.Ordinal))
        {
            var cells = CodeCells(path);
            var claims = ClaimsIn(cells).ToList();
            for (var k = 0; k < claims.Count; k++)
            {
                var (cell, condition) = claims[k];
                var edited = cells.ToList();
                edited[cell] = edited[cell][..condition.SpanStart] + "true || " + condition + edited[cell][condition.Span.End..];
                var now = ClaimsIn(edited).Select(c => Claims.Normalize(c.Condition.ToString())).ToList();
                Assert.False(now.SequenceEqual(reviewed[Path.GetFileName(path)]),
                    $"{Path.GetFileName(path)}: weakening claim {k} ({condition}) went unnoticed");
                weakened++;
            }
        }
        Assert.True(weakened >= 60, $"{weakened} claims weakened");
    }

    [Fact]
    public void Every_chapter_makes_claims_and_each_states_a_condition_of_its_own()
    {
        foreach (var path in Directory.GetFiles(NotebookRunner.NotebooksDirectory(), "*.ipynb"))
        {
            var conditions = ConditionsIn(path);
            Assert.True(conditions.Count >= 3, $"{Path.GetFileName(path)}: {conditions.Count} claims");
            // A claim whose condition is a constant checks nothing.
            Assert.DoesNotContain(conditions, c => c is "true" or "!false" or "1 == 1");
        }
    }

    [Fact]
    public void A_claim_prints_its_sentence_with_its_condition_and_a_false_one_stops_with_both()
    {
        var exits = 1000;
        var output = new StringWriter();
        var saved = Console.Out;
        Console.SetOut(output);
        try
        {
            Claims.Claim(exits ==
                1000, $"every write exited ({exits})");
        }
        finally
        {
            Console.SetOut(saved);
        }
        Assert.Equal("holds: every write exited (1000)   [checked: exits == 1000]", output.ToString().TrimEnd());
        Assert.Equal([("every write exited (1000)", "exits == 1000")], Claims.Parse(output.ToString()));

        var e = Assert.Throws<ClaimFailedException>(() => Claims.Claim(exits > 1000, "more than 1000"));
        Assert.Equal("exits > 1000", e.Condition);
        Assert.Equal("Claim does not hold: more than 1000 [checked: exits > 1000]", e.Message);
    }
}
