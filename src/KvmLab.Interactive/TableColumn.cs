namespace KvmLab.Interactive;

/// <summary>One column of a <see cref="Table"/>.</summary>
/// <param name="Name">The member name, used as the header.</param>
/// <param name="IsNumeric">True when the member is a number: its cells are right-aligned so digits line up.</param>
public sealed record TableColumn(string Name, bool IsNumeric);
