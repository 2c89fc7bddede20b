// Finds libswinunetr.so, first match wins:
//   1. SWINUNETR_LIB_DIR: the folder holding libswinunetr.so (an override; set but empty
//      counts as unset);
//   2. pkg-config: `pkg-config --libs swinunetr` (the program in PKG_CONFIG, default
//      `pkg-config`; the .pc file of an install tree is found through PKG_CONFIG_PATH or
//      pkg-config's own search path), its -L folders;
//   3. the repository's build tree, ../../build/lib, if it holds libswinunetr.so;
//   4. none: the linker's system path (an installed libswinunetr in /usr/lib, say).
// The folder that 1-3 give is also recorded as an rpath, so tests and programs run
// without LD_LIBRARY_PATH. A line "swinunetr build.rs: ..." says which one was taken
// (`cargo build -vv` shows it). No dependencies: pkg-config is run as a program.
use std::env;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

const NOTE: &str = "swinunetr build.rs:";

fn main() {
    for var in ["SWINUNETR_LIB_DIR", "PKG_CONFIG", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let dirs = match env::var_os("SWINUNETR_LIB_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => {
            println!("{NOTE} libswinunetr from SWINUNETR_LIB_DIR: {}", PathBuf::from(&dir).display());
            vec![PathBuf::from(dir)]
        }
        None => match pkg_config() {
            Ok(dirs) => dirs,
            Err(why) => {
                println!("{NOTE} pkg-config: {why}");
                let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
                let build_tree = manifest.join("../../build/lib");
                if build_tree.join("libswinunetr.so").exists() {
                    println!("{NOTE} libswinunetr from the repository's build tree: {}", build_tree.display());
                    vec![build_tree]
                } else {
                    println!("{NOTE} libswinunetr from the linker's system path (no build tree at {})", build_tree.display());
                    Vec::new()
                }
            }
        },
    };
    for dir in dirs {
        let dir = dir.canonicalize().unwrap_or(dir);
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    println!("cargo:rustc-link-lib=dylib=swinunetr");
}

/// The -L folders of `pkg-config --libs swinunetr` (none when the library is in a
/// system folder, which pkg-config leaves out), or why pkg-config gave nothing.
fn pkg_config() -> Result<Vec<PathBuf>, String> {
    let program = env::var_os("PKG_CONFIG").filter(|p| !p.is_empty()).unwrap_or_else(|| OsString::from("pkg-config"));
    let shown = program.to_string_lossy().into_owned();
    let run = |option: &str| -> Result<String, String> {
        let out = Command::new(&program)
            .args([option, "swinunetr"])
            .output()
            .map_err(|e| format!("`{shown}` could not be run ({e})"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let first_line = stderr.lines().next().unwrap_or("").trim();
            return Err(format!("`{shown} {option} swinunetr` failed: {first_line}"));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let libs = run("--libs")?;
    let version = run("--modversion")?;
    // A new or moved .pc file (a fresh install) runs this script again.
    if let Ok(pcfiledir) = run("--variable=pcfiledir") {
        println!("cargo:rerun-if-changed={pcfiledir}/swinunetr.pc");
    }
    let mut dirs = Vec::new();
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            dirs.push(PathBuf::from(dir));
        } else if let Some(lib) = flag.strip_prefix("-l") {
            if lib != "swinunetr" {
                println!("cargo:rustc-link-lib={lib}");
            }
        }
        // Anything else (the .pc file's own -Wl,-rpath) is covered by the rpath set per folder.
    }
    println!("{NOTE} libswinunetr {version} from pkg-config (`{shown} --libs swinunetr`: {libs})");
    Ok(dirs)
}
