using System.Numerics;
using System.Text;

namespace KvmLab.Memory;

/// <summary>
/// A view of a region tree as the CPU sees it (QEMU: <c>AddressSpace</c>): "memory" for MMIO exits, "io" for port
/// exits. The tree is flattened into sorted ranges whenever it changes, so dispatch is a binary search plus the
/// device call and allocates nothing.
/// </summary>
/// <remarks>
/// Dispatch follows QEMU 7.2's <c>address_space_rw</c> path that KVM exits take: an access is cut at range
/// boundaries and into the largest aligned pieces the region allows (<c>memory_access_size</c>); each piece is
/// checked against the region's <see cref="IMemoryRegionOps.Valid"/> rules (rejected pieces read 0) and then split
/// or widened to the <see cref="IMemoryRegionOps.Impl"/> sizes. Bytes nobody claims read 0 in "memory" (its root is
/// a container) and all-ones in "io" (its root region answers with <c>unassigned_io_ops</c>). Not thread-safe: one
/// run loop owns an address space.
/// </remarks>
public sealed class AddressSpace
{
    private FlatRange[] _ranges = [];

    /// <summary>Creates an address space over <paramref name="root"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="root"/> is already placed somewhere.</exception>
    public AddressSpace(string name, MemoryRegion root)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(root);
        if (root.Container is not null || root.Space is not null)
        {
            throw new ArgumentException($"{root.Name} is already placed.", nameof(root));
        }

        Name = name;
        Root = root;
        root.Space = this;
        Rebuild();
    }

    /// <summary>The "memory" space: a 64-bit container named "system", as QEMU's <c>address_space_memory</c>.</summary>
    public static AddressSpace CreateMemory() => new("memory", MemoryRegion.CreateContainer("system", ulong.MaxValue));

    /// <summary>The "io" space: 64 KiB of ports whose root answers unclaimed ports with all-ones, as QEMU's <c>address_space_io</c>.</summary>
    public static AddressSpace CreateIo()
    {
        MemoryRegion root = MemoryRegion.CreateIo("io", 0x10000, new UnassignedIoOps());
        root.IsUnassignedHandler = true;
        return new AddressSpace("io", root);
    }

    /// <summary>The address space name ("memory" or "io").</summary>
    public string Name { get; }

    /// <summary>The root region.</summary>
    public MemoryRegion Root { get; }

    /// <summary>The current flattened map, sorted by address.</summary>
    internal IReadOnlyList<FlatRange> FlatRanges => _ranges;

    /// <summary>Raised after the flattened map changed (a region was added, removed, moved, enabled or disabled).</summary>
    public event Action<AddressSpace>? TopologyChanged;

    /// <summary>Reads <paramref name="size"/> bytes (1..8) at <paramref name="address"/>. Allocates nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not 1..8.</exception>
    public AccessResult Read(ulong address, int size, out ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, 8);
        return Dispatch(address, size, 0, isWrite: false, out value);
    }

    /// <summary>Writes the low <paramref name="size"/> bytes (1..8) of <paramref name="value"/> at <paramref name="address"/>. Allocates nothing.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not 1..8.</exception>
    public AccessResult Write(ulong address, int size, ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, 8);
        return Dispatch(address, size, value, isWrite: true, out _);
    }

    /// <summary>Finds the flat range containing <paramref name="address"/>.</summary>
    internal bool TryFind(ulong address, out FlatRange range)
    {
        FlatRange[] ranges = _ranges;
        int i = IndexOf(ranges, address);
        range = i >= 0 ? ranges[i] : default;
        return i >= 0;
    }

    /// <summary>The region tree, printed like QEMU's <c>info mtree</c>: aliases name their target, and each target
    /// an alias shows follows as its own tree ("memory-region: NAME").</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        sb.Append("address-space: ").Append(Name).Append('\n');
        DescribeRegion(sb, Root, 0, 1);
        var shown = new HashSet<MemoryRegion>(ReferenceEqualityComparer.Instance);
        var pending = new Queue<MemoryRegion>(AliasTargets(Root));
        while (pending.TryDequeue(out var target))
        {
            if (!shown.Add(target)) continue;
            sb.Append('\n').Append("memory-region: ").Append(target.Name).Append('\n');
            DescribeRegion(sb, target, 0, 1);
            foreach (var next in AliasTargets(target)) pending.Enqueue(next);
        }

        return sb.ToString();
    }

    private static IEnumerable<MemoryRegion> AliasTargets(MemoryRegion region)
    {
        if (region.AliasTarget is { } target) yield return target;
        foreach (var sub in region.Subregions)
            foreach (var t in AliasTargets(sub))
                yield return t;
    }

    /// <summary>The flattened map, printed like QEMU's <c>info mtree -f</c>.</summary>
    public string DescribeFlat()
    {
        var sb = new StringBuilder();
        sb.Append("FlatView for address-space: ").Append(Name).Append('\n');
        foreach (FlatRange r in _ranges)
        {
            sb.Append("  ").Append(r.ToString());
            if (r.Region.Owner is { } owner)
            {
                sb.Append(" owner=").Append(owner);
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Re-flattens the tree (QEMU: rendering a new FlatView after a transaction).</summary>
    internal void Rebuild()
    {
        var ranges = new List<FlatRange>();
        Render(ranges, Root, 0, 0, ulong.MaxValue);
        _ranges = ranges.ToArray();
        TopologyChanged?.Invoke(this);
    }

    private AccessResult Dispatch(ulong address, int size, ulong writeValue, bool isWrite, out ulong value)
    {
        FlatRange[] ranges = _ranges;
        ulong result = 0;
        MemoryRegion? firstRegion = null;
        ulong firstOffset = address;
        AccessStatus status = AccessStatus.Ok;
        int pieces = 0;
        int pos = 0;
        while (pos < size)
        {
            ulong a = address + (ulong)pos;
            int remaining = size - pos;
            int index = IndexOf(ranges, a);
            ulong piece;
            int length;
            AccessStatus pieceStatus;
            MemoryRegion? region = null;
            ulong offset = a;
            if (index < 0)
            {
                int next = ~index;
                ulong gapLast = next < ranges.Length ? ranges[next].Start - 1 : ulong.MaxValue;
                length = (int)Math.Min((ulong)remaining, gapLast - a + 1 == 0 ? ulong.MaxValue : gapLast - a + 1);
                piece = 0;
                pieceStatus = AccessStatus.Unassigned;
            }
            else
            {
                FlatRange range = ranges[index];
                region = range.Region;
                offset = range.OffsetInRegion + (a - range.Start);
                ulong inRange = range.Last - a + 1;
                length = inRange == 0 ? remaining : (int)Math.Min((ulong)remaining, inRange);
                IMemoryRegionOps ops = region.Ops!;
                length = AccessSize(region, length, offset);
                if (!region.ValidSizes.Accepts(offset, length))
                {
                    piece = 0;
                    pieceStatus = AccessStatus.InvalidAccess;
                }
                else
                {
                    piece = 0;
                    if (isWrite)
                    {
                        Write(ops, region.ImplSizes, offset, length, (writeValue >> (pos * 8)) & Mask(length));
                    }
                    else
                    {
                        piece = Read(ops, region.ImplSizes, offset, length);
                    }

                    pieceStatus = region.IsUnassignedHandler ? AccessStatus.Unassigned : AccessStatus.Ok;
                }

                if (region.IsUnassignedHandler)
                {
                    region = null;
                    offset = a;
                }
            }

            if (pieces == 0)
            {
                firstRegion = region;
                firstOffset = offset;
            }

            if (status == AccessStatus.Ok)
            {
                status = pieceStatus;
            }

            result |= (piece & Mask(length)) << (pos * 8);
            pos += length;
            pieces++;
        }

        value = isWrite ? 0 : result;
        int register = firstRegion?.Registers?.Find(firstOffset) ?? -1;
        return new AccessResult(firstRegion, firstOffset, status, register, pieces);
    }

    // QEMU's memory_access_size: the widest piece the region takes, bounded by the alignment of the offset.
    private static int AccessSize(MemoryRegion region, int length, ulong offset)
    {
        int max = region.ValidSizes.Max;
        if (!region.ImplSizes.Unaligned)
        {
            ulong align = offset & (0 - offset);
            if (align != 0 && align < (ulong)max)
            {
                max = (int)align;
            }
        }

        if (length > max)
        {
            length = max;
        }

        return (int)BitOperations.RoundUpToPowerOf2((uint)length + 1) >> 1;
    }

    // QEMU's access_with_adjusted_size: cut or widen a valid piece to the sizes the callbacks implement.
    private static ulong Read(IMemoryRegionOps ops, in AccessSizes impl, ulong offset, int length)
    {
        int step = Math.Max(Math.Min(length, impl.Max), impl.Min);
        ulong mask = Mask(step);
        ulong value = 0;
        for (int i = 0; i < length; i += step)
        {
            value |= (ops.Read(offset + (ulong)i, step) & mask) << (i * 8);
        }

        return value;
    }

    private static void Write(IMemoryRegionOps ops, in AccessSizes impl, ulong offset, int length, ulong value)
    {
        int step = Math.Max(Math.Min(length, impl.Max), impl.Min);
        ulong mask = Mask(step);
        for (int i = 0; i < length; i += step)
        {
            ops.Write(offset + (ulong)i, step, (value >> (i * 8)) & mask);
        }
    }

    private static ulong Mask(int bytes) => bytes >= 8 ? ulong.MaxValue : (1UL << (bytes * 8)) - 1;

    // Index of the range holding the address, or (as Array.BinarySearch) the complement of the first range above it.
    private static int IndexOf(FlatRange[] ranges, ulong address)
    {
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (address < ranges[mid].Start)
            {
                hi = mid - 1;
            }
            else if (address > ranges[mid].Last)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return ~lo;
    }

    // QEMU's render_memory_region: subregions first in visibility order, each filling only what is still uncovered;
    // then the region's own ops (if any) fill the remaining holes of its range.
    private static void Render(List<FlatRange> ranges, MemoryRegion region, ulong regionBase, ulong clipStart, ulong clipLast)
    {
        if (!region.Enabled)
        {
            return;
        }

        ulong start = Math.Max(regionBase, clipStart);
        ulong last = Math.Min(LastAddress(region, regionBase), clipLast);
        if (start > last)
        {
            return;
        }

        if (region.AliasTarget is { } target)
        {
            // The target's offset AliasOffset appears at regionBase. Its own start may lie below address 0 (wrapping
            // arithmetic keeps the sums right), so its contents are rendered here, clipped to the alias window.
            if (!target.Enabled)
            {
                return;
            }

            ulong targetBase = regionBase - region.AliasOffset;
            foreach (MemoryRegion sub in target.Subregions)
            {
                Render(ranges, sub, targetBase + sub.Address, start, last);
            }

            if (target.Ops is not null)
            {
                Claim(ranges, target, targetBase, start, last);
            }

            return;
        }

        foreach (MemoryRegion sub in region.Subregions)
        {
            Render(ranges, sub, regionBase + sub.Address, start, last);
        }

        if (region.Ops is not null)
        {
            Claim(ranges, region, regionBase, start, last);
        }
    }

    private static void Claim(List<FlatRange> ranges, MemoryRegion region, ulong regionBase, ulong start, ulong last)
    {
        ulong cursor = start;
        int i = 0;
        while (true)
        {
            while (i < ranges.Count && ranges[i].Last < cursor)
            {
                i++;
            }

            if (i < ranges.Count && ranges[i].Start <= cursor)
            {
                if (ranges[i].Last >= last)
                {
                    return;
                }

                cursor = ranges[i].Last + 1;
                i++;
                continue;
            }

            ulong holeLast = i < ranges.Count && ranges[i].Start - 1 < last ? ranges[i].Start - 1 : last;
            ranges.Insert(i, new FlatRange(cursor, holeLast, region, cursor - regionBase));
            i++;
            if (holeLast >= last)
            {
                return;
            }

            cursor = holeLast + 1;
        }
    }

    // A region reaching past the top of the 64-bit space ends at its top.
    private static ulong LastAddress(MemoryRegion region, ulong regionBase) =>
        regionBase + region.LastOffset < regionBase ? ulong.MaxValue : regionBase + region.LastOffset;

    private static void DescribeRegion(StringBuilder sb, MemoryRegion region, ulong regionBase, int depth)
    {
        sb.Append(' ', depth * 2)
          .Append($"{regionBase:x16}-{LastAddress(region, regionBase):x16} (prio {region.Priority}, {(region.AliasTarget is not null ? "alias" : region.Ops is null ? "container" : "i/o")}): ")
          .Append(region.Name);
        if (region.AliasTarget is { } target)
        {
            sb.Append(" @").Append(target.Name).Append($" {region.AliasOffset:x16}-{region.AliasOffset + region.LastOffset:x16}");
        }
        if (!region.Enabled)
        {
            sb.Append(" [disabled]");
        }

        if (region.Owner is { } owner)
        {
            sb.Append(" owner=").Append(owner);
        }

        sb.Append('\n');
        foreach (MemoryRegion sub in region.Subregions)
        {
            DescribeRegion(sb, sub, regionBase + sub.Address, depth + 1);
        }
    }
}
