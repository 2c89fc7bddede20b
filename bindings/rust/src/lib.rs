//! Swin UNETR abdominal CT segmentation (MONAI's `swin_unetr_btcv_segmentation`) from
//! Rust, over libswinunetr's C API. No dependencies; [`sys`] is the raw C API.
//!
//! ```no_run
//! let model = swinunetr::Model::new(&swinunetr::ModelParams { threads: 4, ..Default::default() })?;
//! model.load_weights("model.pt")?;
//! let ct = swinunetr::Volume::read("ct.nii.gz")?;
//! let labels = model.segment(&ct, &swinunetr::InferParams::default())?;
//! labels.write("labels.nii.gz")?;
//! # Ok::<(), swinunetr::Error>(())
//! ```
//!
//! Every call returns `Result<_, Error>`; an [`Error`] carries the library's [`Status`]
//! and message. Handles free themselves on drop. [`Volume::wrap`] borrows the caller's
//! voxels without copying: the volume cannot outlive the slice.
//!
//! ```compile_fail
//! let volume = {
//!     let hu = vec![0i16; 8];
//!     swinunetr::Volume::wrap(&hu, [2, 2, 2], &Default::default()).unwrap()
//! }; // error: `hu` does not live long enough
//! ```
//!
//! # Linking
//!
//! The build script links `libswinunetr.so` from the first of:
//!
//! 1. `SWINUNETR_LIB_DIR`, the folder holding `libswinunetr.so` (an override);
//! 2. pkg-config: the `-L` folders of `pkg-config --libs swinunetr` (the program in
//!    `PKG_CONFIG`, default `pkg-config`; an install tree's `lib/pkgconfig` goes in
//!    `PKG_CONFIG_PATH`);
//! 3. the repository's build tree, `../../build/lib` from this crate;
//! 4. the linker's system path (nothing added).
//!
//! The folder that 1–3 give is also set as an rpath, so programs and tests run without
//! `LD_LIBRARY_PATH`. `cargo build -vv` shows a line `swinunetr build.rs: ...` that says
//! which was taken. Backend plugins are found next to the library (`swinunetr/backends/`
//! beside it), in `SWU_BACKEND_PATH`, or by [`load_backends`]. Minimum Rust: 1.63
//! (`rust-version` in `Cargo.toml`).
use std::any::Any;
use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::os::raw::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Mutex;

pub mod abi;
pub mod sys;

/// What went wrong (`swu_status`).
///
/// ```
/// use swinunetr::{Status, Volume};
///
/// let e = Volume::read("/no/such/ct.nii.gz").err().expect("there is no such file");
/// assert_eq!(e.status, Status::Io);
/// match e.status {
///     Status::Io | Status::Format => eprintln!("cannot read the CT: {}", e.message),
///     Status::Cancelled => eprintln!("stopped"),
///     other => eprintln!("{other:?}: {}", e.message),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InvalidArgument,
    Io,
    Format,
    Unsupported,
    Backend,
    Weights,
    State,
    BufferTooSmall,
    OutOfMemory,
    Busy,
    Internal,
    Cancelled,
    /// A status this crate does not know (a newer library).
    Other(i32),
}

impl Status {
    fn from_raw(s: sys::swu_status) -> Status {
        match s {
            sys::SWU_ERR_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::SWU_ERR_IO => Status::Io,
            sys::SWU_ERR_FORMAT => Status::Format,
            sys::SWU_ERR_UNSUPPORTED => Status::Unsupported,
            sys::SWU_ERR_BACKEND => Status::Backend,
            sys::SWU_ERR_WEIGHTS => Status::Weights,
            sys::SWU_ERR_STATE => Status::State,
            sys::SWU_ERR_BUFFER_TOO_SMALL => Status::BufferTooSmall,
            sys::SWU_ERR_OUT_OF_MEMORY => Status::OutOfMemory,
            sys::SWU_ERR_BUSY => Status::Busy,
            sys::SWU_ERR_INTERNAL => Status::Internal,
            sys::SWU_ERR_CANCELLED => Status::Cancelled,
            other => Status::Other(other),
        }
    }
}

/// A failed call: the status and the library's message (`swu_last_error`).
///
/// ```
/// let e = swinunetr::Volume::read("/no/such/ct.nii.gz").err().unwrap();
/// assert_eq!(e.status, swinunetr::Status::Io);
/// assert!(e.message.contains("/no/such/ct.nii.gz"));
/// println!("{e}"); // the message, then the status in parentheses
/// // A std::error::Error: `?` turns it into Box<dyn Error> too.
/// let _boxed: Box<dyn std::error::Error + Send + Sync> = e.into();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: Status,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.message, self.status)
    }
}

impl std::error::Error for Error {}

/// `Result<T, swinunetr::Error>`, what every call returns.
///
/// ```
/// use swinunetr::{InferParams, Model, ModelParams, Volume};
///
/// fn segment_file(ct: &str, weights: &str, out: &str) -> swinunetr::Result<()> {
///     let model = Model::new(&ModelParams::default())?;
///     model.load_weights(weights)?;
///     model.segment(&Volume::read(ct)?, &InferParams::default())?.write(out)
/// }
/// assert_eq!(segment_file("/no/such/ct.nii.gz", "/no/such/model.pt", "/tmp/x.nii.gz").unwrap_err().status,
///            swinunetr::Status::Io); // the weights are missing
/// ```
pub type Result<T> = std::result::Result<T, Error>;

fn error(status: Status, message: impl Into<String>) -> Error {
    Error { status, message: message.into() }
}

fn check(status: sys::swu_status) -> Result<()> {
    if status == sys::SWU_OK {
        return Ok(());
    }
    // SAFETY: swu_last_error never returns NULL; the text is copied at once.
    let message = unsafe { text(sys::swu_last_error()) };
    Err(error(Status::from_raw(status), message))
}

/// Copies a library string (NULL gives "").
///
/// # Safety
/// `p` is NULL or a valid NUL-terminated string.
unsafe fn text(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

fn c_string(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| error(Status::InvalidArgument, format!("{s:?} contains a NUL byte")))
}

fn c_path(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| error(Status::InvalidArgument, format!("{} contains a NUL byte", path.display())))
}

static ABI_CHECKED: Mutex<Option<std::result::Result<(), String>>> = Mutex::new(None);

/// Checks (once per process) that the loaded library has this crate's ABI version and
/// struct layouts. Every constructor calls it; a mismatch is `Status::Unsupported`.
///
/// ```
/// // At start-up, to fail early (and say why) with a library of another ABI:
/// swinunetr::ensure_compatible()?;
/// # Ok::<(), swinunetr::Error>(())
/// ```
pub fn ensure_compatible() -> Result<()> {
    let mut state = ABI_CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    let outcome = state.get_or_insert_with(|| {
        // SAFETY: a plain query.
        let abi = unsafe { sys::swu_abi_version() };
        if abi != sys::SWU_ABI_VERSION {
            return Err(format!("libswinunetr has C ABI {abi}, this crate was written for ABI {}", sys::SWU_ABI_VERSION));
        }
        let problems = abi::layout_mismatches(false);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("this crate's declarations differ from libswinunetr: {}", problems.join("; ")))
        }
    });
    outcome.clone().map_err(|m| error(Status::Unsupported, m))
}

/// The loaded library's version, e.g. "0.1.0".
///
/// ```
/// let v = swinunetr::version();
/// assert_eq!(v.split('.').count(), 3, "{v}");
/// println!("libswinunetr {v}");
/// ```
pub fn version() -> String {
    // SAFETY: static string.
    unsafe { text(sys::swu_version_string()) }
}

/// Loads backend plugins from `folder`, or (None) runs the default search
/// (SWU_BACKEND_PATH, the install folder, next to libswinunetr.so). Returns how many
/// were newly loaded. [`Model::new`] runs the default search itself when none is loaded.
///
/// ```
/// use std::path::Path;
///
/// let newly_loaded = swinunetr::load_backends(None)?; // the default search
/// println!("{newly_loaded} backend(s) loaded");
/// // A folder of your own (e.g. where your application ships the plugins):
/// let e = swinunetr::load_backends(Some(Path::new("/no/such/folder"))).unwrap_err();
/// assert_eq!(e.status, swinunetr::Status::Io);
/// # Ok::<(), swinunetr::Error>(())
/// ```
pub fn load_backends(folder: Option<&Path>) -> Result<usize> {
    ensure_compatible()?;
    let folder = folder.map(c_path).transpose()?;
    let mut n = 0usize;
    // SAFETY: valid string or NULL, valid out-pointer.
    check(unsafe { sys::swu_backends_load(folder.as_ref().map_or(ptr::null(), |f| f.as_ptr()), &mut n) })?;
    Ok(n)
}

/// A backend plugin the library found, usable or not (then `error` says why).
///
/// ```
/// swinunetr::load_backends(None)?;
/// for b in swinunetr::backends()? {
///     if b.loaded {
///         println!("{}: {} ({} device(s)), {}", b.name, b.version, b.device_count, b.path);
///         let infers = b.capabilities & swinunetr::sys::SWU_CAP_INFER != 0;
///         assert!(infers || b.capabilities & swinunetr::sys::SWU_CAP_TRAIN != 0);
///     } else {
///         println!("{} failed to load: {}", b.path, b.error);
///     }
/// }
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BackendInfo {
    pub name: String,
    pub path: String,
    pub loaded: bool,
    pub error: String,
    pub version: String,
    pub capabilities: u32,
    pub device_count: i32,
}

/// Every plugin the library has found, loaded or failed. Empty until a search has run:
/// [`load_backends`] or the first [`Model::new`].
///
/// ```
/// swinunetr::load_backends(None)?;
/// let usable: Vec<String> = swinunetr::backends()?.into_iter().filter(|b| b.loaded).map(|b| b.name).collect();
/// println!("usable backends: {usable:?}"); // e.g. ["onednn", "torch"]
/// # Ok::<(), swinunetr::Error>(())
/// ```
pub fn backends() -> Result<Vec<BackendInfo>> {
    ensure_compatible()?;
    let mut count = 0usize;
    // SAFETY: valid out-pointer.
    check(unsafe { sys::swu_backend_count(&mut count) })?;
    (0..count)
        .map(|i| {
            // SAFETY: all-zero is a valid swu_backend_info (NULL pointers, zeros).
            let mut b: sys::swu_backend_info = unsafe { std::mem::zeroed() };
            b.struct_size = std::mem::size_of::<sys::swu_backend_info>() as u32;
            // SAFETY: valid index and struct; the strings live as long as the process.
            unsafe {
                check(sys::swu_backend_get_info(i, &mut b))?;
                Ok(BackendInfo {
                    name: text(b.name),
                    path: text(b.path),
                    loaded: b.loaded != 0,
                    error: text(b.error),
                    version: text(b.version),
                    capabilities: b.capabilities,
                    device_count: b.device_count,
                })
            }
        })
        .collect()
}

/// Arithmetic of the network: `Bf16` on CPUs with AVX512-BF16 or AMX (`onednn`), `Fp16`
/// and `Bf16` as AMP on CUDA (`torch`); elsewhere the model is refused with the reason.
///
/// ```
/// use swinunetr::{Model, ModelParams, Precision};
///
/// let params = ModelParams { precision: Precision::Bf16, ..Default::default() };
/// match Model::new(&params) {
///     Ok(model) => println!("bf16 on {}", model.info()?.backend),
///     Err(e) => println!("no bf16 here: {e}"), // e.g. a CPU without AVX512-BF16 or AMX
/// }
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Fp32 = 0,
    Bf16 = 1,
    Fp16 = 2,
}

/// How to create a model; the network's sizes come from the weights.
///
/// ```
/// use swinunetr::{Model, ModelParams};
///
/// let model = Model::new(&ModelParams { threads: 2, ..Default::default() })?; // "auto", "cpu"
/// assert_eq!(model.info()?.threads, 2);
/// // On a GPU, with a torch plugin built against CUDA LibTorch:
/// let _gpu = ModelParams { backend: "torch".into(), device: "cuda:0".into(), ..Default::default() };
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ModelParams {
    /// "auto" (default), "torch" or "onednn".
    pub backend: String,
    /// "cpu" (default) or "cuda:N".
    pub device: String,
    /// CPU threads; 0 = all cores.
    pub threads: i32,
    pub precision: Precision,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams { backend: "auto".into(), device: "cpu".into(), threads: 0, precision: Precision::Fp32 }
    }
}

/// What a model is (network fields are 0 before weights are loaded).
///
/// ```
/// let model = swinunetr::Model::new(&Default::default())?;
/// let info = model.info()?;
/// assert!(!info.weights_loaded);
/// assert_eq!(info.feature_size, 0); // known once weights are loaded
/// println!("{} on {}, {} threads", info.backend, info.device, info.threads);
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub backend: String,
    pub device: String,
    pub threads: i32,
    pub weights_loaded: bool,
    pub in_channels: i32,
    pub out_channels: i32,
    pub feature_size: i32,
    pub depths: [i32; 4],
    pub num_heads: [i32; 4],
    pub parameter_count: i64,
}

/// Phases of [`Model::segment_with_progress`].
///
/// ```no_run
/// use std::ops::ControlFlow;
/// use swinunetr::{InferParams, Model, Stage, Volume};
///
/// let model = Model::new(&Default::default())?;
/// model.load_weights("model.pt")?;
/// let ct = Volume::read("ct.nii.gz")?;
/// let labels = model.segment_with_progress(&ct, &InferParams::default(), |stage, done, total| {
///     match stage {
///         Stage::Network => println!("window {done} of {total}"),
///         Stage::Preprocess | Stage::Postprocess => println!("{stage:?} {done}/{total}"),
///     }
///     ControlFlow::Continue(())
/// })?;
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Orientation, resampling, intensity scaling.
    Preprocess,
    /// `done` / `total` count sliding windows.
    Network,
    /// `done` / `total` count output slices.
    Postprocess,
}

/// How overlapping sliding windows are merged: `Constant` (the bundle's) averages them,
/// `Gaussian` weighs each window's centre more.
///
/// ```
/// use swinunetr::{Blend, InferParams};
///
/// assert_eq!(InferParams::default().blend, Blend::Constant);
/// let smoother = InferParams { blend: Blend::Gaussian, overlap: 0.625, ..Default::default() };
/// # let _ = smoother;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blend {
    Constant = 0,
    Gaussian = 1,
}

/// How to segment; the defaults are the bundle's inference.json.
///
/// ```no_run
/// use swinunetr::{InferParams, Model, Volume, VoxelType};
///
/// let model = Model::new(&Default::default())?;
/// model.load_weights("model.pt")?;
/// let ct = Volume::read("ct.nii.gz")?;
/// // Faster (less overlap), labels as float32 for a pipeline that wants floats:
/// let params = InferParams { overlap: 0.25, sw_batch: 2, label_type: VoxelType::Float32, ..Default::default() };
/// let labels = model.segment(&ct, &params)?;
/// assert_eq!(labels.voxel_type(), VoxelType::Float32);
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct InferParams {
    pub roi: i32,
    pub overlap: f64,
    pub sw_batch: i32,
    pub blend: Blend,
    /// `VoxelType::UInt8` (default) or `VoxelType::Float32`.
    pub label_type: VoxelType,
}

impl Default for InferParams {
    fn default() -> Self {
        InferParams { roi: 96, overlap: 0.5, sw_batch: 4, blend: Blend::Constant, label_type: VoxelType::UInt8 }
    }
}

/// One Swin UNETR network on one backend and device. A model serves one call at a time:
/// a call while another thread uses it fails with `Status::Busy`.
///
/// ```no_run
/// use swinunetr::{InferParams, Model, ModelParams, Volume};
///
/// let model = Model::new(&ModelParams { threads: 4, ..Default::default() })?;
/// model.load_weights("model.pt")?; // MONAI's checkpoint of swin_unetr_btcv_segmentation
/// for name in ["a", "b"] {
///     let ct = Volume::read(format!("{name}.nii.gz"))?;
///     model.segment(&ct, &InferParams::default())?.write(format!("{name}_labels.nii.gz"))?;
/// }
/// # Ok::<(), swinunetr::Error>(())
/// ```
pub struct Model {
    raw: NonNull<sys::swu_model>,
}

// SAFETY: the library allows a model to be used from any thread and checks concurrent use itself.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: owned handle, freed once.
        unsafe { sys::swu_model_free(self.raw.as_ptr()) }
    }
}

struct ProgressState<'f> {
    callback: &'f mut dyn FnMut(Stage, i64, i64) -> ControlFlow<()>,
    panic: Option<Box<dyn Any + Send>>,
}

unsafe extern "C" fn progress_trampoline(stage: sys::swu_stage, done: i64, total: i64, user: *mut c_void) -> c_int {
    // SAFETY: `user` is the ProgressState that segment_with_progress keeps alive for the call.
    let state = &mut *(user as *mut ProgressState);
    let stage = match stage {
        sys::SWU_STAGE_PREPROCESS => Stage::Preprocess,
        sys::SWU_STAGE_NETWORK => Stage::Network,
        _ => Stage::Postprocess,
    };
    // A panic must not unwind into C: catch it, cancel, and resume it after the call.
    match panic::catch_unwind(AssertUnwindSafe(|| (state.callback)(stage, done, total))) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(payload) => {
            state.panic = Some(payload);
            1
        }
    }
}

impl Model {
    /// Creates a model without weights on `params.backend` and `params.device`, loading
    /// the backend plugins first if none is loaded.
    ///
    /// ```
    /// use swinunetr::{Model, ModelParams, Status};
    ///
    /// let model = Model::new(&ModelParams::default())?;
    /// println!("\"auto\" took {}", model.info()?.backend);
    /// let e = Model::new(&ModelParams { backend: "no-such-backend".into(), ..Default::default() }).err().unwrap();
    /// assert_eq!(e.status, Status::Backend);
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn new(params: &ModelParams) -> Result<Model> {
        ensure_compatible()?;
        let backend = c_string(&params.backend)?;
        let device = c_string(&params.device)?;
        // SAFETY: all-zero is valid for the init function to fill.
        let mut p: sys::swu_model_params = unsafe { std::mem::zeroed() };
        // SAFETY: valid struct; the strings outlive the create call, which copies them.
        unsafe { check(sys::swu_model_params_init(&mut p))? };
        p.backend = backend.as_ptr();
        p.device = device.as_ptr();
        p.threads = params.threads;
        p.precision = params.precision as sys::swu_precision;
        let mut raw = ptr::null_mut();
        // SAFETY: as above.
        check(unsafe { sys::swu_model_create(&p, &mut raw) })?;
        NonNull::new(raw).map(|raw| Model { raw }).ok_or_else(|| error(Status::Internal, "swu_model_create gave NULL"))
    }

    /// MONAI's `model.pt` (a PyTorch state_dict) or a `.safetensors` file.
    ///
    /// ```no_run
    /// let model = swinunetr::Model::new(&Default::default())?;
    /// model.load_weights("swin_unetr_btcv_segmentation/models/model.pt")?;
    /// assert_eq!(model.info()?.feature_size, 48); // the bundle's network
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn load_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        // SAFETY: live handle, valid string.
        check(unsafe { sys::swu_model_load_weights(self.raw.as_ptr(), path.as_ptr()) })
    }

    /// What the model is: backend, device, threads, and the network once weights are loaded.
    ///
    /// ```no_run
    /// let model = swinunetr::Model::new(&Default::default())?;
    /// model.load_weights("model.pt")?;
    /// let i = model.info()?;
    /// println!("{} on {}: feature size {}, {} parameters, {} classes",
    ///          i.backend, i.device, i.feature_size, i.parameter_count, i.out_channels);
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn info(&self) -> Result<ModelInfo> {
        // SAFETY: all-zero is valid; struct_size set; strings copied while the model lives.
        unsafe {
            let mut i: sys::swu_model_info = std::mem::zeroed();
            i.struct_size = std::mem::size_of::<sys::swu_model_info>() as u32;
            check(sys::swu_model_get_info(self.raw.as_ptr(), &mut i))?;
            Ok(ModelInfo {
                backend: text(i.backend),
                device: text(i.device),
                threads: i.threads,
                weights_loaded: i.weights_loaded != 0,
                in_channels: i.in_channels,
                out_channels: i.out_channels,
                feature_size: i.feature_size,
                depths: i.depths,
                num_heads: i.num_heads,
                parameter_count: i.parameter_count,
            })
        }
    }

    /// The raw network: `input` of `shape` {N, C, D, H, W} (D, H, W multiples of 32) into
    /// `output`, the logits {N, out_channels, D, H, W}. No copies.
    ///
    /// ```no_run
    /// let model = swinunetr::Model::new(&Default::default())?;
    /// model.load_weights("model.pt")?;
    /// let patch = vec![0f32; 96 * 96 * 96]; // scaled intensities, as the network sees them
    /// let mut logits = vec![0f32; 14 * 96 * 96 * 96]; // reused from call to call
    /// model.forward_into(&patch, [1, 1, 96, 96, 96], &mut logits)?;
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn forward_into(&self, input: &[f32], shape: [i64; 5], output: &mut [f32]) -> Result<()> {
        let needed: i64 = shape.iter().product();
        if shape.iter().any(|&d| d < 0) || input.len() as i64 != needed {
            return Err(error(Status::InvalidArgument, format!("input has {} floats, shape {shape:?} needs {needed}", input.len())));
        }
        // SAFETY: input holds product(shape) floats; output's length is passed.
        check(unsafe {
            sys::swu_model_forward(self.raw.as_ptr(), input.as_ptr(), shape.as_ptr(), output.as_mut_ptr(), output.len())
        })
    }

    /// [`Model::forward_into`] into a new vector.
    ///
    /// ```no_run
    /// let model = swinunetr::Model::new(&Default::default())?;
    /// model.load_weights("model.pt")?;
    /// let patch = vec![0f32; 2 * 64 * 64 * 64]; // a batch of two 64^3 patches
    /// let logits = model.forward(&patch, [2, 1, 64, 64, 64])?;
    /// assert_eq!(logits.len(), 2 * 14 * 64 * 64 * 64);
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn forward(&self, input: &[f32], shape: [i64; 5]) -> Result<Vec<f32>> {
        let out_channels = self.info()?.out_channels as i64;
        let count = shape[0] * out_channels * shape[2] * shape[3] * shape[4];
        let mut output = vec![0f32; count.max(0) as usize];
        self.forward_into(input, shape, &mut output)?;
        Ok(output)
    }

    /// The bundle's whole inference on a CT: the label map in the image's geometry.
    ///
    /// ```no_run
    /// use swinunetr::{InferParams, Model, Volume};
    ///
    /// let model = Model::new(&Default::default())?;
    /// model.load_weights("model.pt")?;
    /// let ct = Volume::read("ct.nii.gz")?;
    /// let labels = model.segment(&ct, &InferParams::default())?; // u8, classes 0..=13
    /// assert_eq!(labels.size(), ct.size());
    /// let liver = labels.voxels::<u8>()?.iter().filter(|&&l| l == 6).count();
    /// println!("liver: {liver} voxels");
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn segment(&self, image: &Volume, params: &InferParams) -> Result<Volume<'static>> {
        Ok(self.run_infer(image, params, None, false)?.0)
    }

    /// [`Model::segment`] that also returns the per-class probabilities the labels are
    /// the argmax of: f32, `out_channels` channels in the image's geometry (see
    /// [`Volume::channels`]); 14 x 4 bytes per voxel.
    ///
    /// ```no_run
    /// use swinunetr::{InferParams, Model, Volume};
    ///
    /// let model = Model::new(&Default::default())?;
    /// model.load_weights("model.pt")?;
    /// let ct = Volume::read("ct.nii.gz")?;
    /// let (labels, probabilities) = model.segment_with_probabilities(&ct, &InferParams::default())?;
    /// let n = labels.voxels::<u8>()?.len();
    /// let p = probabilities.voxels::<f32>()?; // channel c of voxel v at p[c * n + v]
    /// assert_eq!((probabilities.channels(), p.len()), (14, 14 * n));
    /// probabilities.write("probabilities.nii.gz")?; // 4D, the class as 4th axis
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn segment_with_probabilities(&self, image: &Volume, params: &InferParams) -> Result<(Volume<'static>, Volume<'static>)> {
        let (labels, probabilities) = self.run_infer(image, params, None, true)?;
        Ok((labels, probabilities.expect("probabilities were asked for")))
    }

    /// Like [`Model::segment`], calling `progress(stage, done, total)` on this thread;
    /// returning `ControlFlow::Break(())` cancels (`Status::Cancelled`). A panic in
    /// `progress` cancels the run and is resumed once the library has returned.
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use swinunetr::{InferParams, Model, Stage, Status, Volume};
    ///
    /// static STOP: AtomicBool = AtomicBool::new(false); // set from another thread to cancel
    /// let model = Model::new(&Default::default())?;
    /// model.load_weights("model.pt")?;
    /// let ct = Volume::read("ct.nii.gz")?;
    /// let result = model.segment_with_progress(&ct, &InferParams::default(), |stage, done, total| {
    ///     if stage == Stage::Network {
    ///         eprint!("\rwindow {done}/{total}");
    ///     }
    ///     if STOP.load(Ordering::Relaxed) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    /// });
    /// match result {
    ///     Ok(labels) => labels.write("labels.nii.gz")?,
    ///     Err(e) if e.status == Status::Cancelled => eprintln!("cancelled"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn segment_with_progress<F>(&self, image: &Volume, params: &InferParams, mut progress: F) -> Result<Volume<'static>>
    where
        F: FnMut(Stage, i64, i64) -> ControlFlow<()>,
    {
        let mut state = ProgressState { callback: &mut progress, panic: None };
        let result = self.run_infer(image, params, Some(&mut state), false).map(|(labels, _)| labels);
        if let Some(payload) = state.panic.take() {
            panic::resume_unwind(payload);
        }
        result
    }

    fn run_infer(
        &self,
        image: &Volume,
        params: &InferParams,
        progress: Option<&mut ProgressState>,
        with_probabilities: bool,
    ) -> Result<(Volume<'static>, Option<Volume<'static>>)> {
        // SAFETY: all-zero is valid for the init function to fill.
        let mut p: sys::swu_infer_params = unsafe { std::mem::zeroed() };
        // SAFETY: valid struct.
        unsafe { check(sys::swu_infer_params_init(&mut p))? };
        p.roi = params.roi;
        p.overlap = params.overlap;
        p.sw_batch = params.sw_batch;
        p.blend = params.blend as sys::swu_blend;
        p.label_type = params.label_type as sys::swu_voxel_type;
        if let Some(state) = progress {
            p.progress = Some(progress_trampoline);
            p.progress_user_data = state as *mut ProgressState as *mut c_void;
        }
        let (mut labels, mut probabilities) = (ptr::null_mut(), ptr::null_mut());
        let probabilities_out: *mut *mut sys::swu_volume = if with_probabilities { &mut probabilities } else { ptr::null_mut() };
        // SAFETY: live handles; the progress state outlives the call; outputs are valid or null.
        check(unsafe {
            sys::swu_infer_with_probabilities(self.raw.as_ptr(), image.raw.as_ptr(), &p, &mut labels, probabilities_out)
        })?;
        let labels = Volume::from_raw(labels)?;
        let probabilities = if with_probabilities { Some(Volume::from_raw(probabilities)?) } else { None };
        Ok((labels, probabilities))
    }
}

/// The element types a volume can hold.
///
/// ```
/// use swinunetr::{Geometry, Volume, VoxelType};
///
/// let raw = vec![1000u16; 4 * 4 * 4]; // e.g. CT values stored with an offset
/// let volume = Volume::wrap(&raw, [4, 4, 4], &Geometry::default())?;
/// assert_eq!(volume.voxel_type(), VoxelType::UInt16);
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoxelType {
    Int16 = 0,
    UInt16 = 1,
    Float32 = 2,
    UInt8 = 3,
}

mod sealed {
    pub trait Sealed {}
}

/// Rust types that are voxel types: `i16`, `u16`, `f32`, `u8`.
///
/// ```
/// use swinunetr::{Geometry, Volume, Voxel};
///
/// fn mean<T: Voxel + Into<f64>>(volume: &Volume) -> swinunetr::Result<f64> {
///     let v = volume.voxels::<T>()?;
///     Ok(v.iter().map(|&x| x.into()).sum::<f64>() / v.len() as f64)
/// }
/// let hu: Vec<i16> = (0..8).map(|i| i * 10).collect();
/// let volume = Volume::wrap(&hu, [2, 2, 2], &Geometry::default())?;
/// assert_eq!(mean::<i16>(&volume)?, 35.0);
/// assert!(mean::<f32>(&volume).is_err()); // not the volume's type
/// # Ok::<(), swinunetr::Error>(())
/// ```
pub trait Voxel: Copy + sealed::Sealed {
    const TYPE: VoxelType;
}
macro_rules! voxel {
    ($t:ty, $v:ident) => {
        impl sealed::Sealed for $t {}
        impl Voxel for $t {
            const TYPE: VoxelType = VoxelType::$v;
        }
    };
}
voxel!(i16, Int16);
voxel!(u16, UInt16);
voxel!(f32, Float32);
voxel!(u8, UInt8);

/// Where voxels sit in the patient (LPS mm, as ITK and DICOM): world = origin +
/// direction * diag(spacing) * (i, j, k); `direction` is row-major 3x3.
///
/// ```
/// use swinunetr::{Geometry, Volume};
///
/// // 0.8 x 0.8 mm pixels, 2.5 mm slices, axes along L, P, S (the default direction).
/// let g = Geometry { spacing: [0.8, 0.8, 2.5], origin: [-200.0, -180.0, -400.0], ..Default::default() };
/// let hu = vec![-1000i16; 8 * 8 * 4];
/// let volume = Volume::wrap(&hu, [8, 8, 4], &g)?;
/// assert_eq!(volume.geometry(), g);
/// # Ok::<(), swinunetr::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    pub spacing: [f64; 3],
    pub origin: [f64; 3],
    pub direction: [f64; 9],
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry { spacing: [1.0; 3], origin: [0.0; 3], direction: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0] }
    }
}

/// A 3D image. `Volume<'static>` owns its voxels (read from a file, or labels); a
/// wrapped volume borrows the caller's slice for `'a`.
///
/// ```
/// use swinunetr::{Geometry, Volume, VoxelType};
///
/// let hu: Vec<i16> = (0..6 * 5 * 4).map(|i| i as i16 - 60).collect();
/// let wrapped = Volume::wrap(&hu, [6, 5, 4], &Geometry { spacing: [1.5, 1.5, 2.0], ..Default::default() })?;
/// let path = std::env::temp_dir().join(format!("swinunetr-doc-{}.nii.gz", std::process::id()));
/// wrapped.write(&path)?;
/// let read = Volume::read(&path)?; // owns its voxels: Volume<'static>
/// std::fs::remove_file(&path).ok();
/// assert_eq!((read.voxel_type(), read.size()), (VoxelType::Int16, [6, 5, 4]));
/// assert_eq!(read.voxels::<i16>()?, &hu[..]);
/// # Ok::<(), swinunetr::Error>(())
/// ```
pub struct Volume<'a> {
    raw: NonNull<sys::swu_volume>,
    _voxels: PhantomData<&'a [u8]>,
}

// SAFETY: a volume is immutable once made; the library only reads it.
unsafe impl Send for Volume<'_> {}
unsafe impl Sync for Volume<'_> {}

impl Drop for Volume<'_> {
    fn drop(&mut self) {
        // SAFETY: owned handle, freed once (never the borrowed voxels).
        unsafe { sys::swu_volume_free(self.raw.as_ptr()) }
    }
}

impl Volume<'static> {
    fn from_raw(raw: *mut sys::swu_volume) -> Result<Volume<'static>> {
        NonNull::new(raw)
            .map(|raw| Volume { raw, _voxels: PhantomData })
            .ok_or_else(|| error(Status::Internal, "the library returned no volume"))
    }

    /// NIfTI, NRRD, MetaImage or a DICOM series folder. int16 / uint16 / uint8 files keep
    /// their type (see `voxel_type`), anything else (and DICOM) becomes float32.
    ///
    /// ```no_run
    /// use swinunetr::{Volume, VoxelType};
    ///
    /// let ct = Volume::read("ct.nii.gz")?; // or .nrrd, .mha, .mhd, .nhdr
    /// let series = Volume::read("/data/patient1/CT")?; // a folder of DICOM files: float32
    /// assert_eq!(series.voxel_type(), VoxelType::Float32);
    /// let lowest = match ct.voxel_type() {
    ///     VoxelType::Int16 => ct.voxels::<i16>()?.iter().copied().min().map(f32::from),
    ///     _ => ct.voxels::<f32>()?.iter().copied().reduce(f32::min),
    /// };
    /// println!("{:?} voxels, lowest {lowest:?}", ct.size());
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Volume<'static>> {
        ensure_compatible()?;
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid string and out-pointer.
        check(unsafe { sys::swu_volume_read(path.as_ptr(), &mut raw) })?;
        Volume::from_raw(raw)
    }
}

impl<'a> Volume<'a> {
    /// Wraps `voxels` (i fastest: `voxels[i + size[0] * (j + size[1] * k)]`) without
    /// copying; the volume borrows the slice.
    ///
    /// ```
    /// use swinunetr::{Geometry, Volume};
    ///
    /// let (nx, ny, nz) = (64, 64, 16);
    /// let hu = vec![0i16; nx * ny * nz]; // your buffer, HU, i fastest
    /// let volume = Volume::wrap(&hu, [nx as i64, ny as i64, nz as i64], &Geometry::default())?;
    /// assert_eq!(volume.voxels::<i16>()?.as_ptr(), hu.as_ptr()); // not copied
    /// // Too few voxels for the size is refused:
    /// assert!(Volume::wrap(&hu[1..], [nx as i64, ny as i64, nz as i64], &Geometry::default()).is_err());
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn wrap<T: Voxel>(voxels: &'a [T], size: [i64; 3], geometry: &Geometry) -> Result<Volume<'a>> {
        ensure_compatible()?;
        let needed = size.iter().try_fold(1i64, |acc, &n| if n > 0 { acc.checked_mul(n) } else { None });
        if needed.map_or(true, |n| n > voxels.len() as i64) {
            return Err(error(Status::InvalidArgument, format!("{} voxels cannot have size {size:?}", voxels.len())));
        }
        // SAFETY: all-zero is valid for the init function to fill.
        let mut d: sys::swu_volume_desc = unsafe { std::mem::zeroed() };
        // SAFETY: valid struct.
        unsafe { check(sys::swu_volume_desc_init(&mut d))? };
        d.type_ = T::TYPE as sys::swu_voxel_type;
        d.data = voxels.as_ptr() as *const c_void;
        d.size = size;
        d.spacing = geometry.spacing;
        d.origin = geometry.origin;
        d.direction = geometry.direction;
        let mut raw = ptr::null_mut();
        // SAFETY: the slice holds every voxel the size addresses and outlives the volume ('a).
        check(unsafe { sys::swu_volume_wrap(&d, &mut raw) })?;
        NonNull::new(raw)
            .map(|raw| Volume { raw, _voxels: PhantomData })
            .ok_or_else(|| error(Status::Internal, "the library returned no volume"))
    }

    fn raw_info(&self) -> sys::swu_volume_info {
        // SAFETY: all-zero is valid; struct_size set; cannot fail for a live handle.
        unsafe {
            let mut i: sys::swu_volume_info = std::mem::zeroed();
            i.struct_size = std::mem::size_of::<sys::swu_volume_info>() as u32;
            let st = sys::swu_volume_get_info(self.raw.as_ptr(), &mut i);
            assert_eq!(st, sys::SWU_OK, "swu_volume_get_info failed on a live volume");
            i
        }
    }

    /// The element type of the voxels (what [`Volume::voxels`] must be asked for).
    ///
    /// ```
    /// let labels = [0u8, 1, 2, 3, 4, 5, 6, 7];
    /// let volume = swinunetr::Volume::wrap(&labels, [2, 2, 2], &Default::default())?;
    /// assert_eq!(volume.voxel_type(), swinunetr::VoxelType::UInt8);
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn voxel_type(&self) -> VoxelType {
        match self.raw_info().type_ {
            sys::SWU_VOXEL_INT16 => VoxelType::Int16,
            sys::SWU_VOXEL_UINT16 => VoxelType::UInt16,
            sys::SWU_VOXEL_FLOAT32 => VoxelType::Float32,
            _ => VoxelType::UInt8,
        }
    }

    /// 1 for images and label maps; `out_channels` for probabilities.
    ///
    /// ```
    /// let hu = [0i16; 8];
    /// assert_eq!(swinunetr::Volume::wrap(&hu, [2, 2, 2], &Default::default())?.channels(), 1);
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn channels(&self) -> i64 {
        let mut n = 0i64;
        // SAFETY: live handle; the stride output may be null.
        let st = unsafe { sys::swu_volume_get_channels(self.raw.as_ptr(), &mut n, ptr::null_mut()) };
        assert_eq!(st, sys::SWU_OK, "swu_volume_get_channels failed on a live volume");
        n
    }

    /// Voxels along i, j, k.
    ///
    /// ```
    /// let hu = vec![0i16; 3 * 4 * 5];
    /// let volume = swinunetr::Volume::wrap(&hu, [3, 4, 5], &Default::default())?;
    /// let [nx, ny, nz] = volume.size();
    /// assert_eq!((nx, ny, nz), (3, 4, 5));
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn size(&self) -> [i64; 3] {
        self.raw_info().size
    }

    /// Spacing (mm), origin (mm) and direction of the voxel grid, LPS as ITK and DICOM.
    ///
    /// ```
    /// use swinunetr::{Geometry, Volume};
    ///
    /// let hu = [0i16; 8];
    /// let volume = Volume::wrap(&hu, [2, 2, 2], &Geometry { spacing: [0.7, 0.7, 1.0], ..Default::default() })?;
    /// let g = volume.geometry();
    /// // The world position (mm) of voxel (1, 1, 1): origin + direction * diag(spacing) * (i, j, k).
    /// let world: Vec<f64> = (0..3).map(|r| g.origin[r] + (0..3).map(|c| g.direction[3 * r + c] * g.spacing[c]).sum::<f64>()).collect();
    /// assert_eq!(world, [0.7, 0.7, 1.0]);
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn geometry(&self) -> Geometry {
        let i = self.raw_info();
        Geometry { spacing: i.spacing, origin: i.origin, direction: i.direction }
    }

    /// The voxels as a slice, i fastest, borrowed from the volume: `T` must be the
    /// volume's voxel type and the voxels dense (true for read, segmented and densely
    /// wrapped volumes). A volume of several channels gives them one after another.
    ///
    /// ```
    /// use swinunetr::{Status, Volume};
    ///
    /// let hu: Vec<i16> = (0..8).collect();
    /// let volume = Volume::wrap(&hu, [2, 2, 2], &Default::default())?;
    /// let v = volume.voxels::<i16>()?;
    /// assert_eq!(v[1 + 2 * (0 + 2 * 1)], 5); // voxel (i, j, k) = (1, 0, 1)
    /// assert_eq!(volume.voxels::<u8>().unwrap_err().status, Status::InvalidArgument);
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn voxels<T: Voxel>(&self) -> Result<&[T]> {
        let i = self.raw_info();
        if i.type_ != T::TYPE as sys::swu_voxel_type {
            return Err(error(Status::InvalidArgument, format!("the volume holds {:?}, not {:?}", self.voxel_type(), T::TYPE)));
        }
        if i.strides != [1, i.size[0], i.size[0] * i.size[1]] {
            return Err(error(Status::Unsupported, format!("strided voxels ({:?}) cannot be one slice", i.strides)));
        }
        let n = (i.size[0] * i.size[1] * i.size[2] * self.channels()) as usize;
        // SAFETY: dense voxels of type T (channels back to back), alive as long as the volume (and its borrow).
        Ok(unsafe { std::slice::from_raw_parts(i.data as *const T, n) })
    }

    /// Format from the extension: .nii.gz, .nii, .nrrd, .mha, .mhd, .nhdr.
    ///
    /// ```
    /// let labels = vec![0u8; 4 * 4 * 4];
    /// let volume = swinunetr::Volume::wrap(&labels, [4, 4, 4], &Default::default())?;
    /// let path = std::env::temp_dir().join(format!("swinunetr-doc-{}.nrrd", std::process::id()));
    /// volume.write(&path)?;
    /// assert!(path.exists());
    /// std::fs::remove_file(&path).ok();
    /// # Ok::<(), swinunetr::Error>(())
    /// ```
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_path(path.as_ref())?;
        // SAFETY: live handle, valid string.
        check(unsafe { sys::swu_volume_write(self.raw.as_ptr(), path.as_ptr()) })
    }
}
