using System;
using System.Runtime.InteropServices;
using Swinunetr.Interop;

namespace Swinunetr
{
    /// <summary>Where voxels sit in the patient (LPS mm, as ITK and DICOM): world =
    /// Origin + Direction * diag(Spacing) * (i, j, k); Direction is row-major 3x3.</summary>
    public sealed class Geometry
    {
        public double[] Spacing = { 1, 1, 1 };
        public double[] Origin = { 0, 0, 0 };
        public double[] Direction = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
    }

    /// <summary>A 3D image: read from a file, wrapped around a managed array (no copy; the
    /// array stays pinned until Dispose), or returned by Model.Segment.</summary>
    public sealed class Volume : IDisposable
    {
        internal VolumeHandle Handle { get; private set; }

        internal Volume(VolumeHandle handle) { Handle = handle; }

        /// <summary>NIfTI, NRRD, MetaImage or a DICOM series folder; int16 / uint16 / uint8 files keep their type, anything else (and DICOM) becomes float32.</summary>
        public static Volume Read(string path)
        {
            Library.EnsureCompatible();
            VolumeHandle h;
            SwinunetrException.Check(Native.swu_volume_read(Text.ToUtf8(path), out h));
            return new Volume(h);
        }

        /// <summary>Wraps CT voxels (HU) stored i fastest: voxels[i + size[0] * (j + size[1] * k)].</summary>
        public static Volume Wrap(short[] voxels, long[] size, Geometry geometry = null)
        {
            return WrapArray(voxels, VoxelType.Int16, size, geometry);
        }

        public static Volume Wrap(ushort[] voxels, long[] size, Geometry geometry = null)
        {
            return WrapArray(voxels, VoxelType.UInt16, size, geometry);
        }

        public static Volume Wrap(float[] voxels, long[] size, Geometry geometry = null)
        {
            return WrapArray(voxels, VoxelType.Float32, size, geometry);
        }

        public static Volume Wrap(byte[] voxels, long[] size, Geometry geometry = null)
        {
            return WrapArray(voxels, VoxelType.UInt8, size, geometry);
        }

        static Volume WrapArray(Array voxels, VoxelType type, long[] size, Geometry geometry)
        {
            Library.EnsureCompatible();
            if (voxels == null) throw new ArgumentNullException("voxels");
            if (size == null || size.Length != 3) throw new ArgumentException("size must have 3 entries (i, j, k)");
            if (size[0] * size[1] * size[2] > voxels.LongLength)
                throw new ArgumentException("the array holds " + voxels.LongLength + " voxels, size asks for " +
                                            size[0] * size[1] * size[2]);
            geometry = geometry ?? new Geometry();
            var d = new swu_volume_desc();
            SwinunetrException.Check(Native.swu_volume_desc_init(ref d));
            GCHandle pin = GCHandle.Alloc(voxels, GCHandleType.Pinned);
            VolumeHandle h = null;
            try
            {
                d.type = type;
                d.data = pin.AddrOfPinnedObject();
                d.size = (long[])size.Clone();
                d.spacing = geometry.Spacing;
                d.origin = geometry.Origin;
                d.direction = geometry.Direction;
                SwinunetrException.Check(Native.swu_volume_wrap(ref d, out h));
                h.HoldPin(pin);  // released after swu_volume_free
                return new Volume(h);
            }
            catch
            {
                if (h == null || h.IsInvalid) pin.Free();
                throw;
            }
        }

        swu_volume_info Info()
        {
            var i = new swu_volume_info { struct_size = (uint)Marshal.SizeOf(typeof(swu_volume_info)) };
            SwinunetrException.Check(Native.swu_volume_get_info(Handle, ref i));
            return i;
        }

        public VoxelType Type { get { return Info().type; } }
        /// <summary>Voxels along i, j, k.</summary>
        public long[] Size { get { return Info().size; } }
        /// <summary>1 for images and label maps; 14 for the probabilities of Model.Segment.</summary>
        public long Channels
        {
            get
            {
                long channels, stride;
                SwinunetrException.Check(Native.swu_volume_get_channels(Handle, out channels, out stride));
                return channels;
            }
        }
        public Geometry Geometry
        {
            get
            {
                swu_volume_info i = Info();
                return new Geometry { Spacing = i.spacing, Origin = i.origin, Direction = i.direction };
            }
        }

        /// <summary>Format from the extension: .nii.gz, .nii, .nrrd, .mha, .mhd, .nhdr.</summary>
        public void Write(string path)
        {
            SwinunetrException.Check(Native.swu_volume_write(Handle, Text.ToUtf8(path)));
        }

        /// <summary>A copy of the voxels, i fastest (float32 volumes: DICOM series, float files, wrapped floats).</summary>
        public float[] ToFloatArray() { return (float[])CopyVoxels(VoxelType.Float32, new float[0]); }
        /// <summary>A copy of the voxels, i fastest (uint8 volumes: label maps).</summary>
        public byte[] ToByteArray() { return (byte[])CopyVoxels(VoxelType.UInt8, new byte[0]); }
        /// <summary>A copy of the voxels, i fastest (int16 volumes: most CT files).</summary>
        public short[] ToInt16Array() { return (short[])CopyVoxels(VoxelType.Int16, new short[0]); }

        Array CopyVoxels(VoxelType expected, Array kind)
        {
            swu_volume_info i = Info();
            if (i.type != expected) throw new InvalidOperationException("the volume holds " + i.type + ", not " + expected);
            long n = i.size[0] * i.size[1] * i.size[2] * Channels;  // several channels: one after another (dense)
            Array out_ = Array.CreateInstance(kind.GetType().GetElementType(), n);
            int item = Marshal.SizeOf(kind.GetType().GetElementType());
            bool dense = i.strides[0] == 1 && i.strides[1] == i.size[0] && i.strides[2] == i.size[0] * i.size[1];
            if (dense)
                CopyRun(i.data, out_, 0, n);
            else
                for (long k = 0, o = 0; k < i.size[2]; ++k)
                    for (long j = 0; j < i.size[1]; ++j)
                        for (long ii = 0; ii < i.size[0]; ++ii, ++o)
                            CopyRun(new IntPtr(i.data.ToInt64() + item * (ii * i.strides[0] + j * i.strides[1] + k * i.strides[2])),
                                    out_, o, 1);
            GC.KeepAlive(this);
            return out_;
        }

        static void CopyRun(IntPtr src, Array dst, long at, long n)
        {
            if (dst is float[]) Marshal.Copy(src, (float[])dst, (int)at, (int)n);
            else if (dst is byte[]) Marshal.Copy(src, (byte[])dst, (int)at, (int)n);
            else Marshal.Copy(src, (short[])dst, (int)at, (int)n);
        }

        public void Dispose()
        {
            Handle.Dispose();
        }
    }
}
