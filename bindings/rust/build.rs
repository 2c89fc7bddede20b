// Links libswinunetr.so from SWINUNETR_LIB_DIR, by default the repository's build tree
// (../../build/lib), and records that folder as an rpath so tests and programs run
// without LD_LIBRARY_PATH. With SWINUNETR_LIB_DIR unset and no build tree, the system's
// library path is used (an installed libswinunetr).
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=SWINUNETR_LIB_DIR");
    let dir = match env::var_os("SWINUNETR_LIB_DIR") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
            let build_tree = manifest.join("../../build/lib");
            if build_tree.join("libswinunetr.so").exists() {
                Some(build_tree)
            } else {
                None
            }
        }
    };
    if let Some(dir) = dir {
        let dir = dir.canonicalize().unwrap_or(dir);
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    println!("cargo:rustc-link-lib=dylib=swinunetr");
}
