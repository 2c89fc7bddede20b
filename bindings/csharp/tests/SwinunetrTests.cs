// The C# binding's test (Mono or .NET): the C example's label counts, an error path, a
// cancelled run and the ABI layout. Environment from ctest: SWU_TEST_WEIGHTS, SWU_TEST_CT,
// SWU_TEST_LABELS (the C example's output), LD_LIBRARY_PATH (libswinunetr.so).
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Swinunetr;

static class SwinunetrTests
{
    static int failures;
    static readonly string Weights = Environment.GetEnvironmentVariable("SWU_TEST_WEIGHTS");
    static readonly string Ct = Environment.GetEnvironmentVariable("SWU_TEST_CT");
    static readonly string CLabels = Environment.GetEnvironmentVariable("SWU_TEST_LABELS");

    static void Check(bool ok, string what)
    {
        if (ok) return;
        Console.Error.WriteLine("CHECK failed: " + what);
        ++failures;
    }

    static long[] Counts(byte[] labels)
    {
        var counts = new long[14];
        foreach (byte l in labels) ++counts[l];
        return counts;
    }

    static void Abi()
    {
        Library.EnsureCompatible();
        IList<string> problems = Library.LayoutMismatches();
        Check(problems.Count == 0, "layout mismatches: " + string.Join("; ", problems));
        Check(Library.BindingLayout()["swu_infer_params.progress"][1] == IntPtr.Size, "function pointer size");
    }

    static void SegmentMatchesC()
    {
        Library.LoadBackends();  // the default search; Model does it too when none is loaded
        Console.WriteLine("swinunetr " + Library.Version + ", backends: " + string.Join(", ", Library.Backends()));
        long[] expected;
        using (Volume c = Volume.Read(CLabels)) expected = Counts(c.ToByteArray());  // a uint8 file stays uint8

        using (var model = new Model(Weights, new ModelOptions { Threads = 2 }))
        using (Volume ct = Volume.Read(Ct))
        {
            Check(model.Info.FeatureSize == 12 && model.Info.WeightsLoaded, "model info");
            // The CT as int16 HU in a managed array, wrapped without a copy.
            short[] hu = ct.ToFloatArray().Select(v => (short)v).ToArray();
            using (Volume wrapped = Volume.Wrap(hu, ct.Size, ct.Geometry))
            {
                var stages = new HashSet<Stage>();
                model.Progress += (sender, e) => stages.Add(e.Stage);
                using (Volume labels = model.Segment(wrapped))
                {
                    Check(labels.Type == VoxelType.UInt8, "uint8 labels");
                    Check(labels.Size.SequenceEqual(ct.Size), "labels have the CT's size");
                    long[] got = Counts(labels.ToByteArray());
                    Console.WriteLine("label counts " + string.Join(" ", got));
                    Check(got.SequenceEqual(expected), "C# counts " + string.Join(" ", got) + " != C " + string.Join(" ", expected));
                    Check(got.Count(c => c > 0) > 1, "more than one label present");
                }
                Check(stages.Count == 3, "progress reported every stage");
                Volume prob;
                using (Volume labels = model.Segment(wrapped, out prob))
                using (prob)
                {
                    Check(prob.Channels == 14 && labels.Channels == 1, "14 probability channels, 1 label channel");
                    float[] p = prob.ToFloatArray();
                    byte[] l = labels.ToByteArray();
                    Check(p.Length == 14 * l.Length, "probabilities hold 14 channels");
                    int n = l.Length, wrong = 0;
                    for (int v = 0; v < n; ++v)
                    {
                        int best = 0;
                        double sum = 0;
                        for (int c = 0; c < 14; ++c)
                        {
                            sum += p[c * n + v];
                            if (p[c * n + v] > p[best * n + v]) best = c;
                        }
                        if (best != l[v] || Math.Abs(sum - 1.0) > 1e-5) ++wrong;
                    }
                    Check(wrong == 0, wrong + " voxels whose label is not the probabilities' argmax (or whose sum is not 1)");
                }
            }
        }
    }

    static void Forward()
    {
        using (var model = new Model(Weights, new ModelOptions { Threads = 2 }))
        {
            var x = new float[32 * 32 * 32];
            for (int i = 0; i < x.Length; ++i) x[i] = (i % 97) / 97f;
            float[] y = model.Forward(x, new long[] { 1, 1, 32, 32, 32 });
            Check(y.Length == 14 * 32 * 32 * 32 && y.All(v => !float.IsNaN(v) && !float.IsInfinity(v)), "finite logits");
            try
            {
                model.Forward(x, new long[] { 1, 1, 32, 32, 31 });
                Check(false, "a 31-voxel axis must be refused");
            }
            catch (SwinunetrException e) { Check(e.Status == Status.InvalidArgument, "status " + e.Status); }
        }
    }

    static void Errors()
    {
        try
        {
            Volume.Read("/nonexistent/ct.nii.gz").Dispose();
            Check(false, "reading a missing file must fail");
        }
        catch (SwinunetrException e)
        {
            Check(e.Status == Status.IO, "status " + e.Status);
            Check(e.NativeMessage.Contains("/nonexistent/ct.nii.gz") && e.NativeMessage.Contains("does not exist"), e.Message);
        }
        try
        {
            new Model(new ModelOptions { Backend = "no-such-backend" }).Dispose();
            Check(false, "an unknown backend must fail");
        }
        catch (SwinunetrException e) { Check(e.Status == Status.Backend && e.Message.Contains("no-such-backend"), e.Message); }
    }

    static void Cancel()
    {
        var hu = new short[40 * 30 * 20];
        for (int i = 0; i < hu.Length; ++i) hu[i] = (short)((i * 37) % 400 - 100);
        using (var model = new Model(Weights, new ModelOptions { Threads = 2 }))
        using (Volume v = Volume.Wrap(hu, new long[] { 40, 30, 20 }, new Geometry { Spacing = new double[] { 3, 3, 3 } }))
        {
            var cts = new CancellationTokenSource();
            Stage last = Stage.Preprocess;
            EventHandler<ProgressEventArgs> stopInNetwork = (sender, e) => {
                last = e.Stage;
                if (e.Stage == Stage.Network) cts.Cancel();
            };
            model.Progress += stopInNetwork;
            try
            {
                model.Segment(v, null, cts.Token).Dispose();
                Check(false, "the run must be cancelled");
            }
            catch (OperationCanceledException e)
            {
                var inner = e.InnerException as SwinunetrException;
                Check(inner != null && inner.Status == Status.Cancelled, "inner status");
                Check(e.CancellationToken == cts.Token, "the token");
                Check(last == Stage.Network, "cancelled in the network stage");
            }
            model.Progress -= stopInNetwork;
            // An exception in a handler stops the run and comes out unchanged.
            model.Progress += (sender, e) => { throw new TimeoutException("from the handler"); };
            try
            {
                model.Segment(v).Dispose();
                Check(false, "the handler's exception must propagate");
            }
            catch (TimeoutException) { }
        }
    }

    static int Main()
    {
        var tests = new KeyValuePair<string, Action>[] {
            new KeyValuePair<string, Action>("abi", Abi),
            new KeyValuePair<string, Action>("segment matches C", SegmentMatchesC),
            new KeyValuePair<string, Action>("forward", Forward),
            new KeyValuePair<string, Action>("errors", Errors),
            new KeyValuePair<string, Action>("cancel", Cancel),
        };
        foreach (var t in tests)
        {
            int before = failures;
            try { t.Value(); }
            catch (Exception e)
            {
                Console.Error.WriteLine(e);
                ++failures;
            }
            Console.WriteLine((failures == before ? "ok   " : "FAIL ") + t.Key);
        }
        return failures == 0 ? 0 : 1;
    }
}
