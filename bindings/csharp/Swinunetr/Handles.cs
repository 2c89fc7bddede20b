using System;
using System.Runtime.InteropServices;
using Swinunetr.Interop;

namespace Swinunetr
{
    /// <summary>Owns a native swu_model; released with swu_model_free.</summary>
    public sealed class ModelHandle : SafeHandle
    {
        public ModelHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.swu_model_free(handle);
            return true;
        }
    }

    /// <summary>Owns a native swu_volume; for a wrapped managed array it also holds the
    /// pin, released only after the volume is freed.</summary>
    public sealed class VolumeHandle : SafeHandle
    {
        GCHandle pin;

        public VolumeHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        internal void HoldPin(GCHandle pinned) { pin = pinned; }

        protected override bool ReleaseHandle()
        {
            Native.swu_volume_free(handle);
            if (pin.IsAllocated) pin.Free();
            return true;
        }
    }
}
