using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using KvmLab.Kvm.Interop;

namespace KvmLab.Kvm.Stats;

/// <summary>
/// A VM's or vCPU's binary statistics file (KVM_GET_STATS_FD, Linux 5.14+; no root needed): the counters KVM keeps
/// in the kernel for that VM or vCPU (<c>struct kvm_vm_stat</c> / <c>struct kvm_vcpu_stat</c>, described by
/// <c>kvm_vm_stats_desc</c> / <c>kvm_vcpu_stats_desc</c> in virt/kvm/kvm_main.c and arch/x86/kvm/x86.c).
/// </summary>
/// <remarks>
/// <para>The file is self-describing: a header (<c>struct kvm_stats_header</c>: flags, name size, number of
/// descriptors, and the offsets of the id string, the descriptors and the data), then one descriptor per statistic
/// (<c>struct kvm_stats_desc</c>: flags = kind | unit | base, exponent, number of values, offset in the data block,
/// bucket size, name), then the data: 64-bit values the kernel updates in place. This class reads the header and
/// descriptors once and the data block on each <see cref="Read"/> with one <c>pread</c>, so a snapshot costs a system
/// call and a copy, and <see cref="ReadInto"/> none of the garbage collector's time.</para>
/// <para>Open it with <see cref="Vm.OpenStats"/> or <see cref="Vcpu.OpenStats"/>.</para>
/// </remarks>
public sealed unsafe class KvmStatsFile : IDisposable
{
    // struct kvm_stats_header and the fixed part of struct kvm_stats_desc (checked against <linux/kvm.h> by the tests).
    internal const int HeaderSize = 24;
    internal const int HeaderNameSize = 4, HeaderCount = 8, HeaderIdOffset = 12, HeaderDescOffset = 16, HeaderDataOffset = 20;
    internal const int DescriptorFixedSize = 16;
    internal const int DescExponent = 4, DescSize = 6, DescOffset = 8, DescBucketSize = 12;
    private readonly KvmFileDescriptor _fd;
    private readonly int _dataOffset;
    private readonly Dictionary<string, KvmStatDescriptor> _byName;

    private KvmStatsFile(KvmFileDescriptor fd, string id, IReadOnlyList<KvmStatDescriptor> descriptors, int dataOffset, int dataValues)
    {
        _fd = fd;
        Id = id;
        Descriptors = descriptors;
        _dataOffset = dataOffset;
        DataValues = dataValues;
        _byName = descriptors.GroupBy(d => d.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    /// <summary>The kernel's id of the stats file: <c>kvm-PID</c> for a VM, <c>kvm-PID/vcpu-N</c> for a vCPU.</summary>
    public string Id { get; }

    /// <summary>Every statistic, in the kernel's order.</summary>
    public IReadOnlyList<KvmStatDescriptor> Descriptors { get; }

    /// <summary>Length of the data block in 64-bit values (the size of a buffer for <see cref="ReadInto"/>).</summary>
    public int DataValues { get; }

    /// <summary>The descriptor named <paramref name="name"/>, or null when this kernel has no such statistic.</summary>
    public KvmStatDescriptor? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Reads every value now: one <c>pread</c> of the data block.</summary>
    public KvmStatsSnapshot Read()
    {
        var values = new ulong[DataValues];
        ReadInto(values);
        return new KvmStatsSnapshot(this, values, System.Diagnostics.Stopwatch.GetTimestamp());
    }

    /// <summary>Reads every value into <paramref name="values"/> (at least <see cref="DataValues"/> long) without
    /// allocating: for per-exit sampling in a run loop.</summary>
    public void ReadInto(Span<ulong> values)
    {
        if (values.Length < DataValues)
            throw new ArgumentException($"the buffer holds {values.Length} values; this stats file has {DataValues}", nameof(values));
        fixed (ulong* p = values)
            PreadExactly(_fd, p, DataValues * sizeof(ulong), _dataOffset, "read the KVM stats data");
    }

    /// <summary>Closes the stats file.</summary>
    public void Dispose() => _fd.Dispose();

    internal static KvmStatsFile Open(KvmFileDescriptor owner, Func<KvmCapability, int> checkExtension, string what)
    {
        if (checkExtension(KvmCapability.BinaryStatsFd) == 0)
            throw new NotSupportedException(
                $"This kernel's KVM has no binary statistics (KVM_CAP_BINARY_STATS_FD), so KvmLab cannot read the {what}'s " +
                "kernel counters: they need Linux 5.14 or later; run on a newer kernel.");
        int fd = Sys.Ioctl(owner, KvmIoctls.KVM_GET_STATS_FD, 0, nameof(KvmIoctls.KVM_GET_STATS_FD));
        var handle = new KvmFileDescriptor(fd);
        try
        {
            return Parse(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    internal static KvmStatsFile Parse(KvmFileDescriptor fd)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        fixed (byte* p = header)
            PreadExactly(fd, p, HeaderSize, 0, "read the KVM stats header");
        var nameSize = BinaryPrimitives.ReadUInt32LittleEndian(header[HeaderNameSize..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(header[HeaderCount..]);
        var idOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[HeaderIdOffset..]);
        var descOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[HeaderDescOffset..]);
        var dataOffset = BinaryPrimitives.ReadUInt32LittleEndian(header[HeaderDataOffset..]);
        if (nameSize is 0 or > 4096 || count > 65536 || dataOffset > int.MaxValue || descOffset > int.MaxValue || idOffset > int.MaxValue)
            throw new InvalidDataException($"The KVM stats header makes no sense (name size {nameSize}, {count} descriptors): this KvmLab does not know this kernel's format.");

        var id = new byte[nameSize];
        fixed (byte* p = id)
            PreadExactly(fd, p, id.Length, idOffset, "read the KVM stats id");

        var stride = DescriptorFixedSize + (int)nameSize;
        var block = new byte[checked(stride * (int)count)];
        fixed (byte* p = block)
            PreadExactly(fd, p, block.Length, descOffset, "read the KVM stats descriptors");
        var descriptors = new List<KvmStatDescriptor>((int)count);
        var values = 0;
        for (var i = 0; i < count; i++)
        {
            var d = block.AsSpan(i * stride, stride);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(d);
            var exponent = BinaryPrimitives.ReadInt16LittleEndian(d[DescExponent..]);
            var size = BinaryPrimitives.ReadUInt16LittleEndian(d[DescSize..]);
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(d[DescOffset..]);
            var bucket = BinaryPrimitives.ReadUInt32LittleEndian(d[DescBucketSize..]);
            var name = CString(d[DescriptorFixedSize..]);
            if (offset % sizeof(ulong) != 0 || offset > int.MaxValue / 2)
                throw new InvalidDataException($"KVM statistic {name} sits at data offset {offset}, which is not a whole 64-bit value.");
            descriptors.Add(new KvmStatDescriptor(name, (KvmStatKind)(flags & 0xF), (KvmStatUnit)((flags >> 4) & 0xF),
                ((flags >> 8) & 0xF) == 1, exponent, size, (int)offset, (int)bucket));
            values = Math.Max(values, (int)(offset / sizeof(ulong)) + size);
        }
        return new KvmStatsFile(fd, CString(id), descriptors, (int)dataOffset, values);
    }

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? bytes : bytes[..end]);
    }

    private static void PreadExactly(KvmFileDescriptor fd, void* buffer, int length, long offset, string what)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            var done = 0;
            while (done < length)
            {
                var n = Libc.pread(fd.Number, (byte*)buffer + done, (nuint)(length - done), offset + done);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EINTR) continue;
                    throw KvmException.FromErrno(errno, "pread (" + what + ")");
                }
                if (n == 0)
                    throw new InvalidDataException($"The KVM stats file ended after {offset + done} bytes while trying to {what}.");
                done += (int)n;
            }
        }
        finally
        {
            if (added) fd.DangerousRelease();
        }
    }
}
