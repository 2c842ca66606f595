using CsCheck;
using KvmLab.Pci;

namespace KvmLab.Tests.Pci;

public class ConfigSpacePropertyTests
{
    private sealed record ConfigWrite(bool ViaEcam, int Offset, int Size, uint Value);

    private static readonly Gen<ConfigWrite> GenWrite =
        Gen.Select(Gen.Bool, Gen.Int[0, 0x1FF], Gen.Int[0, 2], Gen.UInt)
           .Select((e, o, s, v) => new ConfigWrite(e, o, 1 << s, v));

    [Fact]
    public void Random_config_writes_keep_read_only_bits_bar_bits_and_neighbours_intact()
    {
        GenWrite.Array[1, 60].Sample(writes =>
        {
            var b = new PciTestBench();
            int edu = PcLayout.EduSlot << 3;
            byte[] before = b.Edu.Config.ToArray();
            byte[] readOnly = b.Edu.WriteMask.ToArray();
            byte[] w1c = b.Edu.WriteOneToClearMask.ToArray();
            byte[] neighbour = b.Testdev.Config.ToArray();

            foreach (ConfigWrite w in writes)
            {
                if (w.ViaEcam)
                {
                    b.Memory.Write(PciTestBench.Ecam(0, PcLayout.EduSlot, 0, w.Offset), w.Size, w.Value);
                }
                else
                {
                    b.Io.Write(0xCF8, 4, PciTestBench.Conf1Address(PcLayout.EduSlot, 0, w.Offset & 0xFF));
                    b.Io.Write(0xCFCUL + (ulong)(w.Offset & 3), w.Size, w.Value);
                }
            }

            ReadOnlySpan<byte> after = b.Edu.Config;
            for (int i = 0; i < PciConfig.Size; i++)
            {
                // Bits neither writable nor write-1-to-clear never change (the device itself only sets status bit 3).
                byte fixedBits = (byte)~(readOnly[i] | w1c[i]);
                if (i == PciConfig.Status)
                {
                    fixedBits &= unchecked((byte)~PciConfig.StatusInterrupt);
                }

                Assert.Equal(before[i] & fixedBits, after[i] & fixedBits);
            }

            uint bar0 = b.Host.ReadConfig(0, edu, 0x10, 4);
            Assert.Equal(0u, bar0 & 0xF_FFFF);
            Assert.Equal(neighbour, b.Testdev.Config.ToArray());
            Assert.Equal(0xFFFF_FFFFu, b.Host.ReadConfig(0, edu, 0x100, 4));
            Assert.Equal(b.Edu.Bars[0]!.MappedAddress is not null,
                (b.Edu.Command & PciConfig.CommandMemory) != 0 && bar0 != 0 && bar0 < 0xFFF0_0000);
        }, iter: 300);
    }
}
