// P/Invoke declarations of swinunetr.h. Structs mirror the header field by field (C
// names kept, so the ABI check can look each one up); Library.LayoutMismatches compares
// them with the library's own table at first use.
using System;
using System.Runtime.InteropServices;

namespace Swinunetr.Interop
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_backend_info
    {
        public uint struct_size;
        public IntPtr name, path;
        public int loaded;
        public IntPtr error, version;
        public uint capabilities;
        public int device_count;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_device_info
    {
        public uint struct_size;
        public IntPtr name, description;
        public ulong memory_bytes;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_model_params
    {
        public uint struct_size;
        public IntPtr backend, device;
        public int threads;
        public Precision precision;
        public int in_channels, out_channels, feature_size;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 4)] public int[] depths;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 4)] public int[] num_heads;
        public int merging;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_named_tensor
    {
        public IntPtr name;
        public int dtype, ndim;
        public IntPtr shape, data;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_model_info
    {
        public uint struct_size;
        public IntPtr backend, device;
        public int threads;
        public Precision precision;
        public int weights_loaded, in_channels, out_channels, feature_size;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 4)] public int[] depths;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 4)] public int[] num_heads;
        public int merging;
        public long parameter_count;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_tap
    {
        public IntPtr name, data;
        public UIntPtr capacity;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 5)] public long[] shape;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_volume_info
    {
        public uint struct_size;
        public VoxelType type;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public long[] size;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public double[] spacing;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public double[] origin;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 9)] public double[] direction;
        public IntPtr data;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public long[] strides;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_volume_desc
    {
        public uint struct_size;
        public VoxelType type;
        public IntPtr data;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public long[] size;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public long[] strides;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public double[] spacing;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 3)] public double[] origin;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = 9)] public double[] direction;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int swu_progress_fn(Stage stage, long done, long total, IntPtr user_data);

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_infer_params
    {
        public uint struct_size;
        public int roi;
        public double overlap;
        public int sw_batch;
        public Blend blend;
        public VoxelType label_type;
        public IntPtr progress;  // a swu_progress_fn kept alive by the caller
        public IntPtr progress_user_data;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct swu_abi_entry
    {
        public IntPtr name;
        public long value, size;
    }

    internal static class Native
    {
        // "swinunetr" resolves to libswinunetr.so (Mono, .NET) through the dynamic
        // loader's search (LD_LIBRARY_PATH, ld.so.conf) or the application folder; .NET
        // also searches the package's runtimes/linux-x64/native/ (via the app's deps.json).
        const string Lib = "swinunetr";
        const CallingConvention C = CallingConvention.Cdecl;

        [DllImport(Lib, CallingConvention = C)] public static extern uint swu_version_number();
        [DllImport(Lib, CallingConvention = C)] public static extern IntPtr swu_version_string();
        [DllImport(Lib, CallingConvention = C)] public static extern uint swu_abi_version();
        [DllImport(Lib, CallingConvention = C)] public static extern IntPtr swu_status_string(Status status);
        [DllImport(Lib, CallingConvention = C)] public static extern IntPtr swu_last_error();
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_abi_layout(out IntPtr entries, out UIntPtr count);

        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_backends_load(byte[] folder, out UIntPtr loaded);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_backend_count(out UIntPtr count);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_backend_get_info(UIntPtr index, ref swu_backend_info info);

        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_model_params_init(ref swu_model_params p);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_model_create(ref swu_model_params p, out ModelHandle model);
        [DllImport(Lib, CallingConvention = C)] public static extern void swu_model_free(IntPtr model);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_model_load_weights(ModelHandle model, byte[] path);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_model_get_info(ModelHandle model, ref swu_model_info info);
        [DllImport(Lib, CallingConvention = C)]
        public static extern Status swu_model_forward(ModelHandle model, float[] input, long[] shape, float[] output, UIntPtr outputCount);

        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_volume_read(byte[] path, out VolumeHandle volume);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_volume_desc_init(ref swu_volume_desc desc);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_volume_wrap(ref swu_volume_desc desc, out VolumeHandle volume);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_volume_get_info(VolumeHandle volume, ref swu_volume_info info);
        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_volume_write(VolumeHandle volume, byte[] path);
        [DllImport(Lib, CallingConvention = C)] public static extern void swu_volume_free(IntPtr volume);

        [DllImport(Lib, CallingConvention = C)] public static extern Status swu_infer_params_init(ref swu_infer_params p);
        [DllImport(Lib, CallingConvention = C)]
        public static extern Status swu_infer(ModelHandle model, VolumeHandle image, ref swu_infer_params p, out VolumeHandle labels);
        [DllImport(Lib, CallingConvention = C)]
        public static extern Status swu_infer_with_probabilities(ModelHandle model, VolumeHandle image, ref swu_infer_params p,
                                                                 out VolumeHandle labels, out VolumeHandle probabilities);
        [DllImport(Lib, CallingConvention = C)]
        public static extern Status swu_volume_get_channels(VolumeHandle volume, out long channels, out long channelStride);
    }
}
