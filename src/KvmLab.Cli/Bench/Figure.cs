using System.Globalization;

namespace KvmLab.Cli.Bench;

/// <summary>How a figure compares with its goal.</summary>
internal enum Verdict
{
    /// <summary>Reported for information: there is no goal.</summary>
    Info,

    /// <summary>The goal is met.</summary>
    Met,

    /// <summary>The goal is missed.</summary>
    Missed,

    /// <summary>Could not be measured here (e.g. QEMU is not installed).</summary>
    NotMeasured,
}

/// <summary>One row of the benchmark table.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Value">The measured value, or null when not measured.</param>
/// <param name="Unit">Unit of <paramref name="Value"/> and <paramref name="Reference"/>.</param>
/// <param name="Reference">The same figure of the reference measured in the same run (C loop, QEMU), or null.</param>
/// <param name="ReferenceName">What the reference is.</param>
/// <param name="Ratio">Value / reference, when there is a reference.</param>
/// <param name="Goal">The goal as a person reads it (for example "at most 1.05"), or null.</param>
/// <param name="Verdict">How the figure compares with the goal.</param>
/// <param name="Note">Extra detail (median, sizes, settings).</param>
internal sealed record Figure(string Name, double? Value, string Unit, double? Reference, string? ReferenceName, double? Ratio,
    string? Goal, Verdict Verdict, string? Note = null)
{
    /// <summary>A figure whose goal is an upper bound, <paramref name="limit"/>, on its ratio to the reference, or on its value when there is none.</summary>
    public static Figure AtMost(string name, double? value, string unit, double? reference, string? referenceName, double limit, string? note = null)
    {
        double? ratio = value is { } v && reference is { } r && r > 0 ? v / r : null;
        double? compared = reference is null ? value : ratio;
        var goal = reference is null ? $"<= {Format(limit)} {unit}" : $"ratio <= {Format(limit)}";
        var verdict = compared is null ? Verdict.NotMeasured : compared <= limit ? Verdict.Met : Verdict.Missed;
        return new Figure(name, value, unit, reference, referenceName, ratio, goal, verdict, note);
    }

    /// <summary>
    /// A cost stated as nanoseconds over a reference measured in the same run (<paramref name="value"/> minus
    /// <paramref name="reference"/>), with the goal an upper bound of <paramref name="limitNs"/> on that difference. A
    /// difference means the same on every KVM backend, where a ratio shrinks as the backend's own exit grows: 350 ns
    /// over a 7.5 us software exit is a ratio of 1.05, over a 1.5 us hardware exit 1.23. The ratio is kept beside it.
    /// </summary>
    public static Figure OverheadAtMost(string name, double? value, double? reference, string referenceName, double limitNs, string? note = null)
    {
        double? over = value is { } v && reference is { } r ? v - r : null;
        double? ratio = value is { } v2 && reference is { } r2 && r2 > 0 ? v2 / r2 : null;
        var verdict = over is null ? Verdict.NotMeasured : over <= limitNs ? Verdict.Met : Verdict.Missed;
        return new Figure(name, over, "ns", reference, referenceName, ratio, $"<= {limitNs.ToString("N0", CultureInfo.InvariantCulture)} ns over", verdict, note);
    }

    /// <summary>A figure without a goal.</summary>
    public static Figure Info(string name, double? value, string unit, double? reference = null, string? referenceName = null, string? note = null)
    {
        double? ratio = value is { } v && reference is { } r && r > 0 ? v / r : null;
        return new Figure(name, value, unit, reference, referenceName, ratio, null, value is null ? Verdict.NotMeasured : Verdict.Info, note);
    }

    /// <summary>A number as the table prints it: integers plainly, small values with three significant decimals.</summary>
    public static string Format(double? value) => value switch
    {
        null => "-",
        { } v when double.IsNaN(v) => "-",
        { } v when Math.Abs(v) >= 100 => v.ToString("N0", CultureInfo.InvariantCulture),
        { } v when Math.Abs(v) >= 10 => v.ToString("F1", CultureInfo.InvariantCulture),
        { } v => v.ToString("0.###", CultureInfo.InvariantCulture),
    };
}
