using CsCheck;
using KvmLab.Memory;

namespace KvmLab.Tests.Memory;

public class AddressSpacePropertyTests
{
    private sealed record Placement(ulong Offset, int Size, int Priority, bool Enabled);

    private sealed record Access(bool Write, ulong Address, int Size, ulong Value);

    private static readonly Gen<Placement> GenPlacement =
        Gen.Select(Gen.ULong[0, 0xF0], Gen.Int[1, 0x40], Gen.Int[0, 2], Gen.Int[0, 5])
           .Select((o, s, p, e) => new Placement(o, s, p, e != 0));

    private static readonly Gen<Access> GenAccess =
        Gen.Select(Gen.Bool, Gen.ULong[0, 0x130], Gen.Int[1, 8], Gen.ULong)
           .Select((w, a, s, v) => new Access(w, a, s, v));

    [Fact]
    public void Dispatch_matches_a_byte_by_byte_reference_for_random_overlapping_maps()
    {
        Gen.Select(GenPlacement.Array[1, 6], GenAccess.Array[1, 40]).Sample((placements, accesses) =>
        {
            var space = AddressSpace.CreateMemory();
            var container = MemoryRegion.CreateContainer("box", 0x200);
            space.Root.AddSubregion(0x1000, container);
            var stores = new ByteStore[placements.Length];
            var models = new byte[placements.Length][];
            for (int i = 0; i < placements.Length; i++)
            {
                Placement p = placements[i];
                stores[i] = new ByteStore(p.Size, new AccessSizes(1, 8, Unaligned: true), new AccessSizes(1, 1)) { Record = false };
                models[i] = new byte[p.Size];
                var region = MemoryRegion.CreateIo($"r{i}", (ulong)p.Size, stores[i]);
                container.AddSubregionOverlap(p.Offset, region, p.Priority);
                region.SetEnabled(p.Enabled);
            }

            foreach (Access a in accesses)
            {
                ulong expected = 0;
                for (int k = 0; k < a.Size; k++)
                {
                    int owner = Visible(placements, a.Address + (ulong)k);
                    if (owner < 0)
                    {
                        continue;
                    }

                    int at = (int)(a.Address + (ulong)k - placements[owner].Offset);
                    if (a.Write)
                    {
                        models[owner][at] = (byte)(a.Value >> (8 * k));
                    }
                    else
                    {
                        expected |= (ulong)models[owner][at] << (8 * k);
                    }
                }

                if (a.Write)
                {
                    space.Write(0x1000 + a.Address, a.Size, a.Value);
                }
                else
                {
                    space.Read(0x1000 + a.Address, a.Size, out ulong actual);
                    Assert.Equal(expected, actual);
                }
            }

            for (int i = 0; i < stores.Length; i++)
            {
                Assert.Equal(models[i], stores[i].Bytes);
            }
        }, iter: 500);
    }

    // The reference: among enabled regions covering the byte, the highest priority wins, the later-added among equals.
    private static int Visible(Placement[] placements, ulong address)
    {
        int best = -1;
        for (int i = 0; i < placements.Length; i++)
        {
            Placement p = placements[i];
            if (!p.Enabled || address < p.Offset || address >= p.Offset + (ulong)p.Size)
            {
                continue;
            }

            if (best < 0 || p.Priority >= placements[best].Priority)
            {
                best = i;
            }
        }

        return best;
    }
}
