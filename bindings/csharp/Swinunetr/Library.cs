using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using Swinunetr.Interop;

namespace Swinunetr
{
    /// <summary>One backend plugin found by the library (loaded or not, with the reason).</summary>
    public sealed class BackendInfo
    {
        public string Name { get; internal set; }
        public string Path { get; internal set; }
        public bool Loaded { get; internal set; }
        public string Error { get; internal set; }
        public string Version { get; internal set; }
        public uint Capabilities { get; internal set; }
        public int DeviceCount { get; internal set; }
        public override string ToString() { return Loaded ? Name + " (" + Version + ")" : Name + ": " + Error; }
    }

    /// <summary>Process-wide functions: versions, backends and the ABI check.</summary>
    public static class Library
    {
        /// <summary>SWU_ABI_VERSION of the header these declarations mirror.</summary>
        public const uint AbiVersion = 1;

        static readonly object gate = new object();
        static bool checkedAbi;

        /// <summary>Checks once that the loaded libswinunetr speaks this binding's ABI
        /// (version and every struct layout); throws otherwise. Every entry point calls it.</summary>
        public static void EnsureCompatible()
        {
            lock (gate)
            {
                if (checkedAbi) return;
                uint abi = Native.swu_abi_version();
                if (abi != AbiVersion)
                    throw new SwinunetrException(Status.Unsupported,
                        "libswinunetr has C ABI " + abi + ", this binding was written for ABI " + AbiVersion);
                IList<string> problems = LayoutMismatches();
                if (problems.Count > 0)
                    throw new SwinunetrException(Status.Unsupported,
                        "the binding's declarations differ from libswinunetr: " + string.Join("; ", problems));
                checkedAbi = true;
            }
        }

        public static string Version { get { return Text.FromUtf8(Native.swu_version_string()); } }

        /// <summary>Loads backend plugins from a folder, or (null) runs the default search
        /// (SWU_BACKEND_PATH, the install folder, next to libswinunetr.so). Returns how many
        /// were newly loaded.</summary>
        public static int LoadBackends(string folder = null)
        {
            EnsureCompatible();
            UIntPtr n;
            SwinunetrException.Check(Native.swu_backends_load(Text.ToUtf8(folder), out n));
            return (int)n.ToUInt64();
        }

        /// <summary>What a new Model does first, when no backend is loaded yet: the default
        /// search (as swu_model_create would run it), then, if that found none, the
        /// application folder, where `dotnet publish -r linux-x64` puts the package's
        /// runtimes/linux-x64/native files side by side (it does not keep the
        /// swinunetr/backends/ folder beside libswinunetr.so that the library searches).
        /// Backends the host loaded itself (LoadBackends(folder)) are left alone.</summary>
        internal static void EnsureBackends()
        {
            if (AnyBackendLoaded()) return;
            LoadBackends(null);
            if (AnyBackendLoaded()) return;
            string app = AppContext.BaseDirectory;
            if (!string.IsNullOrEmpty(app) && Directory.Exists(app) &&
                Directory.GetFiles(app, "libswinunetr_*.so").Length > 0)
                LoadBackends(app);
        }

        static bool AnyBackendLoaded()
        {
            foreach (BackendInfo b in Backends())
                if (b.Loaded) return true;
            return false;
        }

        public static IList<BackendInfo> Backends()
        {
            EnsureCompatible();
            UIntPtr count;
            SwinunetrException.Check(Native.swu_backend_count(out count));
            var list = new List<BackendInfo>();
            for (ulong i = 0; i < count.ToUInt64(); ++i)
            {
                var b = new swu_backend_info { struct_size = (uint)Marshal.SizeOf(typeof(swu_backend_info)) };
                SwinunetrException.Check(Native.swu_backend_get_info(new UIntPtr(i), ref b));
                list.Add(new BackendInfo {
                    Name = Text.FromUtf8(b.name), Path = Text.FromUtf8(b.path), Loaded = b.loaded != 0,
                    Error = Text.FromUtf8(b.error), Version = Text.FromUtf8(b.version),
                    Capabilities = b.capabilities, DeviceCount = b.device_count });
            }
            return list;
        }

        static readonly Type[] Structs = {
            typeof(swu_backend_info), typeof(swu_device_info), typeof(swu_model_params), typeof(swu_named_tensor),
            typeof(swu_model_info), typeof(swu_tap), typeof(swu_volume_info), typeof(swu_volume_desc),
            typeof(swu_infer_params), typeof(swu_abi_entry),
        };

        // The C enums behind the managed ones, and each value's C name.
        static readonly KeyValuePair<string, Type>[] Enums = {
            new KeyValuePair<string, Type>("swu_status", typeof(Status)),
            new KeyValuePair<string, Type>("swu_stage", typeof(Stage)),
            new KeyValuePair<string, Type>("swu_blend", typeof(Blend)),
            new KeyValuePair<string, Type>("swu_precision", typeof(Precision)),
            new KeyValuePair<string, Type>("swu_voxel_type", typeof(VoxelType)),
        };

        static string ConstantName(Type e, string member)
        {
            string upper = member.ToUpperInvariant();
            if (e == typeof(Status)) return upper == "OK" ? "SWU_OK" : "SWU_ERR_" + Snake(member);
            if (e == typeof(VoxelType)) return "SWU_VOXEL_" + upper;
            if (e == typeof(Precision)) return "SWU_PRECISION_" + upper;
            return "SWU_" + e.Name.ToUpperInvariant() + "_" + upper;
        }

        static string Snake(string camel)
        {
            var sb = new System.Text.StringBuilder();
            for (int i = 0; i < camel.Length; ++i)
            {
                if (i > 0 && char.IsUpper(camel[i]) && !char.IsUpper(camel[i - 1])) sb.Append('_');
                sb.Append(char.ToUpperInvariant(camel[i]));
            }
            return sb.ToString();
        }

        static int FieldSize(FieldInfo f)
        {
            Type t = f.FieldType;
            if (t.IsArray)
            {
                var a = (MarshalAsAttribute)Attribute.GetCustomAttribute(f, typeof(MarshalAsAttribute));
                return a.SizeConst * Marshal.SizeOf(t.GetElementType());
            }
            return Marshal.SizeOf(t.IsEnum ? Enum.GetUnderlyingType(t) : t);
        }

        /// <summary>This binding's view of the ABI: name -> (value, size), named as in
        /// swu_abi_entry.</summary>
        public static IDictionary<string, long[]> BindingLayout()
        {
            var mine = new Dictionary<string, long[]>();
            mine["SWU_ABI_VERSION"] = new long[] { AbiVersion, 4 };
            foreach (Type s in Structs)
            {
                long size = Marshal.SizeOf(s);
                mine[s.Name] = new long[] { size, size };
                foreach (FieldInfo f in s.GetFields(BindingFlags.Public | BindingFlags.Instance))
                    mine[s.Name + "." + f.Name] = new long[] { Marshal.OffsetOf(s, f.Name).ToInt64(), FieldSize(f) };
            }
            foreach (var e in Enums)
            {
                mine[e.Key] = new long[] { 4, 4 };
                foreach (string member in Enum.GetNames(e.Value))
                    mine[ConstantName(e.Value, member)] = new long[] { Convert.ToInt64(Enum.Parse(e.Value, member)), 4 };
            }
            return mine;
        }

        /// <summary>Every entry where this binding and the library's table
        /// (swu_abi_layout) disagree, or that only the binding declares. Empty = compatible.
        /// Entries the binding does not use (e.g. log levels) are not required.</summary>
        public static IList<string> LayoutMismatches()
        {
            IntPtr entries;
            UIntPtr count;
            SwinunetrException.Check(Native.swu_abi_layout(out entries, out count));
            var table = new Dictionary<string, long[]>();
            int stride = Marshal.SizeOf(typeof(swu_abi_entry));
            for (ulong i = 0; i < count.ToUInt64(); ++i)
            {
                var e = (swu_abi_entry)Marshal.PtrToStructure(new IntPtr(entries.ToInt64() + (long)i * stride), typeof(swu_abi_entry));
                table[Text.FromUtf8(e.name)] = new long[] { e.value, e.size };
            }
            var problems = new List<string>();
            IDictionary<string, long[]> mine = BindingLayout();
            foreach (var kv in mine)
            {
                long[] lib;
                if (!table.TryGetValue(kv.Key, out lib))
                    problems.Add(kv.Key + ": unknown to the library");
                else if (lib[0] != kv.Value[0] || lib[1] != kv.Value[1])
                    problems.Add(kv.Key + ": binding has " + kv.Value[0] + " (size " + kv.Value[1] + "), library has " +
                                 lib[0] + " (size " + lib[1] + ")");
            }
            // Every field of a struct the binding declares must be declared: a field the
            // library has and the binding lacks means the struct grew.
            foreach (string name in table.Keys)
            {
                int dot = name.IndexOf('.');
                if (dot > 0 && mine.ContainsKey(name.Substring(0, dot)) && !mine.ContainsKey(name))
                    problems.Add(name + ": missing from the binding");
            }
            return problems;
        }
    }
}
