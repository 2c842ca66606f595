namespace KvmLab.Memory;

/// <summary>
/// A named range of guest-physical or port addresses (QEMU: <c>MemoryRegion</c>). An I/O region has ops that a
/// device implements; a container only groups subregions placed at offsets with priorities. Regions form a tree whose
/// root belongs to an <see cref="AddressSpace"/>; every change (add, remove, move, enable) re-flattens that space.
/// </summary>
public sealed class MemoryRegion
{
    private readonly List<MemoryRegion> _subregions = [];
    private readonly List<MemoryRegion> _aliases = [];

    private MemoryRegion(string name, ulong size, IMemoryRegionOps? ops, string? owner, RegisterMap? registers)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (size == 0)
        {
            throw new ArgumentException($"Region {name} has size 0.", nameof(size));
        }

        Name = name;
        Size = size;
        Ops = ops;
        // The ops' access rules do not change after the region exists: read once here, not per access.
        ValidSizes = ops?.Valid ?? AccessSizes.Default;
        ImplSizes = ops?.Impl ?? AccessSizes.Default;
        Owner = owner;
        Registers = registers;
    }

    /// <summary>Creates an I/O region whose accesses go to <paramref name="ops"/> (QEMU: <c>memory_region_init_io</c>).</summary>
    /// <param name="name">The region name, as QEMU's trace events print it (e.g. "edu-mmio").</param>
    /// <param name="size">Size in bytes; <see cref="ulong.MaxValue"/> stands for the whole 64-bit space.</param>
    /// <param name="ops">The device callbacks.</param>
    /// <param name="owner">Name of the device that owns the region, for traces.</param>
    /// <param name="registers">The device's register map, used to name the register an access hit.</param>
    public static MemoryRegion CreateIo(string name, ulong size, IMemoryRegionOps ops, string? owner = null, RegisterMap? registers = null)
    {
        ArgumentNullException.ThrowIfNull(ops);
        return new MemoryRegion(name, size, ops, owner, registers);
    }

    /// <summary>Creates a container: a region without ops that only holds subregions (QEMU: <c>memory_region_init</c>).</summary>
    public static MemoryRegion CreateContainer(string name, ulong size, string? owner = null) =>
        new(name, size, null, owner, null);

    /// <summary>
    /// Creates an alias: a window of <paramref name="size"/> bytes onto <paramref name="target"/> starting at
    /// <paramref name="targetOffset"/> (QEMU: <c>memory_region_init_alias</c>). Placed in a container, it shows that
    /// part of the target there, and changes inside the target show through it. A PCI bridge's windows are aliases of
    /// its secondary bus's address spaces (QEMU: pci_bridge_init_alias).
    /// </summary>
    /// <exception cref="ArgumentException">The window leaves the target.</exception>
    public static MemoryRegion CreateAlias(string name, MemoryRegion target, ulong targetOffset, ulong size, string? owner = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (size == 0 || targetOffset > target.LastOffset || size - 1 > target.LastOffset - targetOffset)
        {
            throw new ArgumentException(
                $"Alias {name} {FormatRange(targetOffset, size)} does not fit in {target.Name} {FormatRange(0, target.Size)}.", nameof(size));
        }

        var alias = new MemoryRegion(name, size, null, owner, null) { AliasTarget = target, AliasOffset = targetOffset };
        target._aliases.Add(alias);
        return alias;
    }

    /// <summary>The region name.</summary>
    public string Name { get; }

    /// <summary>The region an alias shows, or null when this is not an alias.</summary>
    public MemoryRegion? AliasTarget { get; private init; }

    /// <summary>Where in <see cref="AliasTarget"/> the alias window starts.</summary>
    public ulong AliasOffset { get; private init; }

    /// <summary>Size in bytes (<see cref="ulong.MaxValue"/>: the whole 64-bit space).</summary>
    public ulong Size { get; }

    /// <summary>Name of the owning device, or null.</summary>
    public string? Owner { get; }

    /// <summary>The device callbacks, or null for a pure container.</summary>
    public IMemoryRegionOps? Ops { get; }

    // Ops.Valid and Ops.Impl as they were when the region was made (the dispatch reads these, without an interface call).
    internal readonly AccessSizes ValidSizes;
    internal readonly AccessSizes ImplSizes;

    /// <summary>The register map used to name accesses, or null.</summary>
    public RegisterMap? Registers { get; }

    /// <summary>The region this one is placed in, or null when it is not placed (or is a root).</summary>
    public MemoryRegion? Container { get; private set; }

    /// <summary>Offset of this region within its container.</summary>
    public ulong Address { get; private set; }

    /// <summary>Priority among siblings: where siblings overlap, the higher one is visible.</summary>
    public int Priority { get; private set; }

    /// <summary>Whether this region was placed with <see cref="AddSubregionOverlap"/> and may therefore overlap siblings.</summary>
    public bool MayOverlap { get; private set; }

    /// <summary>Whether the region takes part in dispatch (QEMU: <c>memory_region_set_enabled</c>).</summary>
    public bool Enabled { get; private set; } = true;

    /// <summary>Subregions in the order that decides visibility: higher priority first, later-added first among equals.</summary>
    public IReadOnlyList<MemoryRegion> Subregions => _subregions;

    /// <summary>Set on the root region of an address space.</summary>
    internal AddressSpace? Space { get; set; }

    /// <summary>Whether this region answers for addresses nobody claims (the "io" root); hits count as unassigned.</summary>
    internal bool IsUnassignedHandler { get; set; }

    /// <summary>Last byte of the region relative to its own start.</summary>
    internal ulong LastOffset => Size == ulong.MaxValue ? ulong.MaxValue : Size - 1;

    /// <summary>
    /// Places <paramref name="subregion"/> at <paramref name="offset"/> with priority 0 (QEMU:
    /// <c>memory_region_add_subregion</c>). It must not overlap a sibling that was placed the same way.
    /// </summary>
    /// <exception cref="ArgumentException">Overlap, a range outside this region, or a subregion already placed.</exception>
    public void AddSubregion(ulong offset, MemoryRegion subregion) => Add(offset, subregion, 0, mayOverlap: false);

    /// <summary>
    /// Places <paramref name="subregion"/> at <paramref name="offset"/> and lets it overlap siblings; the higher
    /// <paramref name="priority"/> wins (QEMU: <c>memory_region_add_subregion_overlap</c>; PCI BARs are placed so).
    /// </summary>
    /// <exception cref="ArgumentException">A range outside this region, or a subregion already placed.</exception>
    public void AddSubregionOverlap(ulong offset, MemoryRegion subregion, int priority) => Add(offset, subregion, priority, mayOverlap: true);

    /// <summary>Removes a subregion (QEMU: <c>memory_region_del_subregion</c>).</summary>
    /// <exception cref="ArgumentException"><paramref name="subregion"/> is not a subregion of this region.</exception>
    public void RemoveSubregion(MemoryRegion subregion)
    {
        ArgumentNullException.ThrowIfNull(subregion);
        if (subregion.Container != this || !_subregions.Remove(subregion))
        {
            throw new ArgumentException($"{subregion.Name} is not a subregion of {Name}.", nameof(subregion));
        }

        subregion.Container = null;
        NotifyChanged();
    }

    /// <summary>Enables or disables the region (QEMU: <c>memory_region_set_enabled</c>).</summary>
    public void SetEnabled(bool enabled)
    {
        if (Enabled == enabled)
        {
            return;
        }

        Enabled = enabled;
        NotifyChanged();
    }

    /// <summary>Moves the region within its container (QEMU: <c>memory_region_set_address</c>).</summary>
    /// <exception cref="ArgumentException">The new range leaves the container or overlaps a non-overlapping sibling.</exception>
    /// <exception cref="InvalidOperationException">The region is not placed in a container.</exception>
    public void SetAddress(ulong address)
    {
        MemoryRegion container = Container ?? throw new InvalidOperationException($"{Name} is not placed in a container.");
        if (address == Address)
        {
            return;
        }

        container.CheckPlacement(address, this, Priority, MayOverlap);
        Address = address;
        NotifyChanged();
    }

    /// <summary>The range as people read it: <c>base..+len</c> in hex.</summary>
    public static string FormatRange(ulong start, ulong size) => $"0x{start:x}..+0x{size:x}";

    /// <inheritdoc />
    public override string ToString() => $"{Name} {FormatRange(Address, Size)}";

    private void Add(ulong offset, MemoryRegion subregion, int priority, bool mayOverlap)
    {
        ArgumentNullException.ThrowIfNull(subregion);
        if (subregion.Container is not null || subregion.Space is not null || subregion == this)
        {
            throw new ArgumentException($"{subregion.Name} is already placed.", nameof(subregion));
        }

        CheckPlacement(offset, subregion, priority, mayOverlap);
        subregion.Address = offset;
        subregion.Priority = priority;
        subregion.MayOverlap = mayOverlap;
        subregion.Container = this;

        // QEMU's insertion rule: before the first sibling whose priority is not higher, so the newest wins ties.
        int index = _subregions.FindIndex(other => priority >= other.Priority);
        _subregions.Insert(index < 0 ? _subregions.Count : index, subregion);
        NotifyChanged();
    }

    private void CheckPlacement(ulong offset, MemoryRegion subregion, int priority, bool mayOverlap)
    {
        bool fits = subregion.LastOffset <= LastOffset && offset <= LastOffset - subregion.LastOffset;
        if (!fits)
        {
            throw new ArgumentException(
                $"{subregion.Name} {FormatRange(offset, subregion.Size)} does not fit in {Name} {FormatRange(0, Size)}.",
                nameof(subregion));
        }

        if (mayOverlap)
        {
            return;
        }

        foreach (MemoryRegion other in _subregions)
        {
            if (other == subregion || other.MayOverlap || other.Priority != priority)
            {
                continue;
            }

            bool overlaps = offset <= other.Address + other.LastOffset && other.Address <= offset + subregion.LastOffset;
            if (overlaps)
            {
                throw new ArgumentException(
                    $"{subregion.Name} {FormatRange(offset, subregion.Size)} overlaps {other.Name} " +
                    $"{FormatRange(other.Address, other.Size)} in {Name} at priority {priority}.",
                    nameof(subregion));
            }
        }
    }

    /// <summary>Stops showing the target through this alias (QEMU: unparenting an alias when its owner drops it).</summary>
    /// <exception cref="InvalidOperationException">This region is not an alias or is still placed in a container.</exception>
    public void DetachAlias()
    {
        if (AliasTarget is null || Container is not null)
        {
            throw new InvalidOperationException($"{Name} is not an unplaced alias.");
        }

        AliasTarget._aliases.Remove(this);
    }

    // Every change re-flattens the address space at the root, and every space that sees this tree through an alias.
    private void NotifyChanged()
    {
        MemoryRegion root = this;
        while (true)
        {
            foreach (MemoryRegion alias in root._aliases)
            {
                if (alias.Container is not null)
                {
                    alias.NotifyChanged();
                }
            }

            if (root.Container is null)
            {
                break;
            }

            root = root.Container;
        }

        root.Space?.Rebuild();
    }
}
