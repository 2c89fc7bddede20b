#!/bin/sh
# The NuGet package's native layout (README.md, "NuGet package"; the same files that
# Swinunetr.csproj packs), checked with Mono since no dotnet SDK is needed for it:
#   1. as the package unpacks (NuGet cache, `dotnet build`/`run`, publish without a RID):
#      runtimes/linux-x64/native/libswinunetr.so with swinunetr/backends/ beside it; .NET
#      makes that folder a native search folder through the app's deps.json, here
#      LD_LIBRARY_PATH does. The library must find its plugins there on its own.
#   2. as `dotnet publish -r linux-x64` leaves it: native/ flattened into the application
#      folder, no LD_LIBRARY_PATH. The binding must fall back to the application folder.
# usage: package_layout_test.sh MONO CSHARP_OUT(Swinunetr.dll, PackageLayoutCheck.exe) LIBSWINUNETR WORK
set -eu
mono=$1 out=$2 lib=$3 work=$4
backends="$(dirname "$lib")/swinunetr/backends"
rm -rf "$work"
native="$work/package/runtimes/linux-x64/native"
mkdir -p "$native/swinunetr/backends" "$work/package/lib/netstandard2.0" "$work/app" "$work/app_rid"
cp -L "$lib" "$native/libswinunetr.so"
cp "$backends"/libswinunetr_*.so "$native/swinunetr/backends/"
cp "$out/Swinunetr.dll" "$work/package/lib/netstandard2.0/"
native=$(cd "$native" && pwd -P)

echo "== 1. runtimes/linux-x64/native as unpacked (a native search folder)"
cp "$out/PackageLayoutCheck.exe" "$work/package/lib/netstandard2.0/Swinunetr.dll" "$work/app/"
env -u SWU_BACKEND_PATH LD_LIBRARY_PATH="$native" "$mono" "$work/app/PackageLayoutCheck.exe" "$native/swinunetr/backends"

echo "== 2. flattened into the application folder (dotnet publish -r linux-x64)"
app=$(cd "$work/app_rid" && pwd -P)
cp "$out/PackageLayoutCheck.exe" "$work/package/lib/netstandard2.0/Swinunetr.dll" "$native/libswinunetr.so" \
   "$native"/swinunetr/backends/*.so "$app/"
env -u SWU_BACKEND_PATH -u LD_LIBRARY_PATH "$mono" "$app/PackageLayoutCheck.exe" "$app"
