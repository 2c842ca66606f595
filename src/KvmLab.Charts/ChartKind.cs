namespace KvmLab.Charts;

/// <summary>The shape of a <see cref="TraceChart"/>; both renderers (plotly.js and ScottPlot) draw each kind.</summary>
public enum ChartKind
{
    /// <summary>Bars over categories, one bar group (or stack) per series.</summary>
    Bar,

    /// <summary>Lines over a numeric x axis (aggregated time bins).</summary>
    Line,

    /// <summary>One marker per point over a numeric x axis, y being a category (individual exits in time).</summary>
    Markers,

    /// <summary>A matrix of counts with labelled rows and columns.</summary>
    Heatmap,
}
