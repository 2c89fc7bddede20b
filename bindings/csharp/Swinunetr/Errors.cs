using System;
using System.Runtime.InteropServices;
using System.Text;
using Swinunetr.Interop;

namespace Swinunetr
{
    /// <summary>swu_status: the result of every native call.</summary>
    public enum Status
    {
        Ok = 0, InvalidArgument = 1, IO = 2, Format = 3, Unsupported = 4, Backend = 5, Weights = 6,
        State = 7, BufferTooSmall = 8, OutOfMemory = 9, Busy = 10, Internal = 11, Cancelled = 12,
    }

    public enum Stage { Preprocess = 0, Network = 1, Postprocess = 2 }
    public enum Blend { Constant = 0, Gaussian = 1 }
    public enum Precision { FP32 = 0, BF16 = 1, FP16 = 2 }
    public enum VoxelType { Int16 = 0, UInt16 = 1, Float32 = 2, UInt8 = 3 }

    /// <summary>A failed call: the native status and the library's message (swu_last_error).</summary>
    public class SwinunetrException : Exception
    {
        public Status Status { get; private set; }
        public string NativeMessage { get; private set; }

        public SwinunetrException(Status status, string message)
            : base(message + " (" + Text.FromUtf8(Native.swu_status_string(status)) + ")")
        {
            Status = status;
            NativeMessage = message;
        }

        internal static void Check(Status status)
        {
            if (status != Status.Ok) throw new SwinunetrException(status, Text.FromUtf8(Native.swu_last_error()));
        }
    }

    internal static class Text
    {
        /// <summary>A NUL-terminated UTF-8 string for the library.</summary>
        public static byte[] ToUtf8(string s)
        {
            if (s == null) return null;
            byte[] bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        public static string FromUtf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) ++n;
            byte[] bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Unmanaged UTF-8 copy; free with Marshal.FreeHGlobal.</summary>
        public static IntPtr AllocUtf8(string s)
        {
            byte[] bytes = ToUtf8(s);
            IntPtr p = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            return p;
        }
    }
}
