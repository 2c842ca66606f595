namespace KvmLab.Cli.Bench;

/// <summary>
/// The per-round values of one measured figure. Rounds of competing variants alternate, so load from other processes
/// on a shared machine spreads over all of them; <see cref="Best"/> is the least disturbed round, <see cref="Median"/>
/// the typical one.
/// </summary>
internal sealed class Samples
{
    private readonly List<double> _values = new();

    /// <summary>Adds one round's value.</summary>
    public void Add(double value) => _values.Add(value);

    /// <summary>Rounds recorded.</summary>
    public int Count => _values.Count;

    /// <summary>The smallest value.</summary>
    public double Best => _values.Count == 0 ? double.NaN : _values.Min();

    /// <summary>The middle value (mean of the two middle ones for an even count).</summary>
    public double Median
    {
        get
        {
            if (_values.Count == 0) return double.NaN;
            var sorted = _values.Order().ToArray();
            var mid = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }
    }
}
