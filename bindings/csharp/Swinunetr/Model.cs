using System;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading;
using Swinunetr.Interop;

namespace Swinunetr
{
    /// <summary>How to create a model (swu_model_params); network sizes come from the weights.</summary>
    public sealed class ModelOptions
    {
        public string Backend = "auto";   // or "torch", "onednn"
        public string Device = "cpu";     // or "cuda:N"
        public int Threads;               // 0 = all cores
        public Precision Precision = Precision.FP32;
    }

    /// <summary>How to segment (swu_infer_params); the defaults are the bundle's inference.json.</summary>
    public sealed class SegmentOptions
    {
        public int Roi = 96;
        public double Overlap = 0.5;
        public int SwBatch = 4;
        public Blend Blend = Blend.Constant;
        public VoxelType LabelType = VoxelType.UInt8;
    }

    public sealed class ProgressEventArgs : EventArgs
    {
        public Stage Stage { get; internal set; }
        public long Done { get; internal set; }
        public long Total { get; internal set; }
        /// <summary>Set to stop the run (Segment then throws OperationCanceledException).</summary>
        public bool Cancel { get; set; }
    }

    public sealed class ModelInfo
    {
        public string Backend, Device;
        public int Threads, InChannels, OutChannels, FeatureSize;
        public Precision Precision;
        public bool WeightsLoaded;
        public int[] Depths, NumHeads;
        public long ParameterCount;
    }

    /// <summary>One Swin UNETR network on one backend and device. One call at a time per
    /// model (a concurrent call fails with Status.Busy); different models run in parallel.</summary>
    public sealed class Model : IDisposable
    {
        readonly ModelHandle handle;

        /// <summary>Raised on the calling thread during Segment.</summary>
        public event EventHandler<ProgressEventArgs> Progress;

        public Model(ModelOptions options = null)
        {
            Library.EnsureCompatible();
            Library.EnsureBackends();
            options = options ?? new ModelOptions();
            var p = new swu_model_params();
            SwinunetrException.Check(Native.swu_model_params_init(ref p));
            p.backend = Text.AllocUtf8(options.Backend);
            p.device = Text.AllocUtf8(options.Device);
            p.threads = options.Threads;
            p.precision = options.Precision;
            try
            {
                SwinunetrException.Check(Native.swu_model_create(ref p, out handle));  // strings are copied
            }
            finally
            {
                Marshal.FreeHGlobal(p.backend);
                Marshal.FreeHGlobal(p.device);
            }
        }

        /// <summary>Creates the model and loads weights (MONAI's model.pt or .safetensors).</summary>
        public Model(string weights, ModelOptions options = null) : this(options)
        {
            try { LoadWeights(weights); }
            catch { handle.Dispose(); throw; }
        }

        public void LoadWeights(string path)
        {
            SwinunetrException.Check(Native.swu_model_load_weights(handle, Text.ToUtf8(path)));
        }

        public ModelInfo Info
        {
            get
            {
                var i = new swu_model_info { struct_size = (uint)Marshal.SizeOf(typeof(swu_model_info)) };
                SwinunetrException.Check(Native.swu_model_get_info(handle, ref i));
                return new ModelInfo {
                    Backend = Text.FromUtf8(i.backend), Device = Text.FromUtf8(i.device), Threads = i.threads,
                    Precision = i.precision, WeightsLoaded = i.weights_loaded != 0, InChannels = i.in_channels,
                    OutChannels = i.out_channels, FeatureSize = i.feature_size, Depths = i.depths,
                    NumHeads = i.num_heads, ParameterCount = i.parameter_count };
            }
        }

        /// <summary>The raw network: input {N, C, D, H, W} (D, H, W multiples of 32) to
        /// logits {N, out_channels, D, H, W}. Arrays are pinned for the call, not copied.</summary>
        public float[] Forward(float[] input, long[] shape)
        {
            if (shape == null || shape.Length != 5) throw new ArgumentException("shape must be {N, C, D, H, W}");
            long count = shape[0] * Info.OutChannels * shape[2] * shape[3] * shape[4];
            var output = new float[count];
            SwinunetrException.Check(Native.swu_model_forward(handle, input, shape, output, new UIntPtr((ulong)count)));
            return output;
        }

        /// <summary>The bundle's whole inference on a CT: returns the label map in the
        /// image's geometry. Cancelling the token (or setting ProgressEventArgs.Cancel)
        /// stops the run at the next progress report with OperationCanceledException, whose
        /// InnerException is the SwinunetrException (Status.Cancelled).</summary>
        public Volume Segment(Volume image, SegmentOptions options = null, CancellationToken cancellation = default(CancellationToken))
        {
            Volume probabilities;
            return Run(image, options, cancellation, false, out probabilities);
        }

        /// <summary>Segment that also returns the per-class probabilities the labels are the
        /// argmax of: float32, 14 channels in the image's geometry (Volume.Channels;
        /// ToFloatArray gives them one after another), 56 bytes per voxel.</summary>
        public Volume Segment(Volume image, out Volume probabilities, SegmentOptions options = null,
                              CancellationToken cancellation = default(CancellationToken))
        {
            return Run(image, options, cancellation, true, out probabilities);
        }

        Volume Run(Volume image, SegmentOptions options, CancellationToken cancellation, bool withProbabilities,
                   out Volume probabilitiesOut)
        {
            probabilitiesOut = null;
            if (image == null) throw new ArgumentNullException("image");
            options = options ?? new SegmentOptions();
            var p = new swu_infer_params();
            SwinunetrException.Check(Native.swu_infer_params_init(ref p));
            p.roi = options.Roi;
            p.overlap = options.Overlap;
            p.sw_batch = options.SwBatch;
            p.blend = options.Blend;
            p.label_type = options.LabelType;

            ExceptionDispatchInfo raised = null;
            swu_progress_fn callback = (stage, done, total, user) => {
                try
                {
                    if (cancellation.IsCancellationRequested) return 1;
                    var handler = Progress;
                    if (handler == null) return 0;
                    var e = new ProgressEventArgs { Stage = stage, Done = done, Total = total };
                    handler(this, e);
                    return e.Cancel || cancellation.IsCancellationRequested ? 1 : 0;
                }
                catch (Exception e)  // never unwind through native frames
                {
                    raised = ExceptionDispatchInfo.Capture(e);
                    return 1;
                }
            };
            p.progress = Marshal.GetFunctionPointerForDelegate(callback);
            VolumeHandle labels, probabilities = null;
            Status status = withProbabilities
                ? Native.swu_infer_with_probabilities(handle, image.Handle, ref p, out labels, out probabilities)
                : Native.swu_infer(handle, image.Handle, ref p, out labels);
            GC.KeepAlive(callback);
            if (raised != null) raised.Throw();
            if (status == Status.Cancelled)
                throw new OperationCanceledException("segmentation cancelled",
                    new SwinunetrException(status, Text.FromUtf8(Native.swu_last_error())), cancellation);
            SwinunetrException.Check(status);
            if (withProbabilities) probabilitiesOut = new Volume(probabilities);
            return new Volume(labels);
        }

        public void Dispose() { handle.Dispose(); }
    }
}
