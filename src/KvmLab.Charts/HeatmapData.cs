namespace KvmLab.Charts;

/// <summary>The matrix of a <see cref="ChartKind.Heatmap"/> chart.</summary>
/// <param name="Columns">Column labels, left to right (e.g. configuration offsets in hex).</param>
/// <param name="Rows">Row labels, top to bottom (e.g. PCI functions bb:dd.f).</param>
/// <param name="Values">Values[row, column]; zero cells are drawn empty.</param>
public sealed record HeatmapData(IReadOnlyList<string> Columns, IReadOnlyList<string> Rows, double[,] Values);
