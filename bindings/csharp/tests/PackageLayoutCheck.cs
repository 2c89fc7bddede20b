// Checks that the binding finds its backends in a package layout (README.md, "NuGet
// package"): creates a model the way an application does (the default search, then the
// binding's fallback to the application folder) and demands that every loaded backend
// came from BACKEND_DIR and that "auto" got one. Run by package_layout_test.sh.
// usage: mono PackageLayoutCheck.exe BACKEND_DIR
using System;
using System.IO;
using System.Linq;
using Swinunetr;

static class PackageLayoutCheck
{
    static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: PackageLayoutCheck.exe BACKEND_DIR");
            return 2;
        }
        string expected = Path.GetFullPath(args[0]).TrimEnd('/') + "/";
        string backend;
        using (var model = new Model(new ModelOptions { Threads = 1 }))
            backend = model.Info.Backend;
        Console.WriteLine("libswinunetr " + Library.Version + ", \"auto\" took " + backend);
        var all = Library.Backends();
        foreach (BackendInfo b in all)
            Console.WriteLine("  " + b.Path + (b.Loaded ? " (loaded)" : ": " + b.Error));
        var loaded = all.Where(b => b.Loaded).ToList();
        var elsewhere = loaded.Where(b => !Path.GetFullPath(b.Path).StartsWith(expected, StringComparison.Ordinal)).ToList();
        if (loaded.Count == 0 || elsewhere.Count > 0)
        {
            Console.Error.WriteLine("expected every loaded backend in " + expected +
                                    (loaded.Count == 0 ? "; none was loaded" : "; not: " + string.Join(", ", elsewhere.Select(b => b.Path))));
            return 1;
        }
        return 0;
    }
}
