//! Raw declarations of `swinunetr.h`, one to one (C names, C types). Everything here is
//! `unsafe` to call; the crate root wraps it safely. Enums are `i32` aliases with
//! constants, as in C, so no value the library returns can be invalid in Rust.
//!
//! Structs are filled as in C: the `*_init` function (or `struct_size` for the `*_info`
//! output structs), then the fields you change.
//!
//! ```
//! use std::ffi::CStr;
//! use swinunetr::sys;
//!
//! swinunetr::ensure_compatible()?; // the layouts below are the library's
//! unsafe {
//!     println!("libswinunetr {}", CStr::from_ptr(sys::swu_version_string()).to_string_lossy());
//!     let hu = [0i16; 8];
//!     let mut desc: sys::swu_volume_desc = std::mem::zeroed();
//!     assert_eq!(sys::swu_volume_desc_init(&mut desc), sys::SWU_OK);
//!     desc.type_ = sys::SWU_VOXEL_INT16;
//!     desc.data = hu.as_ptr().cast();
//!     desc.size = [2, 2, 2];
//!     let mut volume = std::ptr::null_mut();
//!     assert_eq!(sys::swu_volume_wrap(&desc, &mut volume), sys::SWU_OK);
//!     let mut info: sys::swu_volume_info = std::mem::zeroed();
//!     info.struct_size = std::mem::size_of::<sys::swu_volume_info>() as u32;
//!     assert_eq!(sys::swu_volume_get_info(volume, &mut info), sys::SWU_OK);
//!     assert_eq!(info.size, [2, 2, 2]);
//!     sys::swu_volume_free(volume);
//!     // A failure: the status, and swu_last_error() says why.
//!     let path = b"/no/such/ct.nii.gz\0";
//!     assert_eq!(sys::swu_volume_read(path.as_ptr().cast(), &mut volume), sys::SWU_ERR_IO);
//!     println!("{}", CStr::from_ptr(sys::swu_last_error()).to_string_lossy());
//! }
//! # Ok::<(), swinunetr::Error>(())
//! ```
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub const SWU_ABI_VERSION: u32 = 1;

pub type swu_status = i32;
pub const SWU_OK: swu_status = 0;
pub const SWU_ERR_INVALID_ARGUMENT: swu_status = 1;
pub const SWU_ERR_IO: swu_status = 2;
pub const SWU_ERR_FORMAT: swu_status = 3;
pub const SWU_ERR_UNSUPPORTED: swu_status = 4;
pub const SWU_ERR_BACKEND: swu_status = 5;
pub const SWU_ERR_WEIGHTS: swu_status = 6;
pub const SWU_ERR_STATE: swu_status = 7;
pub const SWU_ERR_BUFFER_TOO_SMALL: swu_status = 8;
pub const SWU_ERR_OUT_OF_MEMORY: swu_status = 9;
pub const SWU_ERR_BUSY: swu_status = 10;
pub const SWU_ERR_INTERNAL: swu_status = 11;
pub const SWU_ERR_CANCELLED: swu_status = 12;

pub type swu_log_level = i32;
pub const SWU_LOG_DEBUG: swu_log_level = 0;
pub const SWU_LOG_INFO: swu_log_level = 1;
pub const SWU_LOG_WARNING: swu_log_level = 2;
pub const SWU_LOG_ERROR: swu_log_level = 3;
pub const SWU_LOG_NONE: swu_log_level = 4;
pub type swu_log_fn = Option<unsafe extern "C" fn(level: swu_log_level, message: *const c_char, user_data: *mut c_void)>;

pub const SWU_CAP_INFER: u32 = 1 << 0;
pub const SWU_CAP_TRAIN: u32 = 1 << 1;
pub const SWU_CAP_FP32: u32 = 1 << 8;
pub const SWU_CAP_BF16: u32 = 1 << 9;
pub const SWU_CAP_FP16: u32 = 1 << 10;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_backend_info {
    pub struct_size: u32,
    pub name: *const c_char,
    pub path: *const c_char,
    pub loaded: i32,
    pub error: *const c_char,
    pub version: *const c_char,
    pub capabilities: u32,
    pub device_count: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_device_info {
    pub struct_size: u32,
    pub name: *const c_char,
    pub description: *const c_char,
    pub memory_bytes: u64,
}

/// Opaque.
#[repr(C)]
pub struct swu_model {
    _private: [u8; 0],
}

pub type swu_precision = i32;
pub const SWU_PRECISION_FP32: swu_precision = 0;
pub const SWU_PRECISION_BF16: swu_precision = 1;
pub const SWU_PRECISION_FP16: swu_precision = 2;

pub type swu_merging = i32;
pub const SWU_MERGING_LEGACY: swu_merging = 0;
pub const SWU_MERGING_MONAI15: swu_merging = 1;
pub const SWU_MERGING_V2: swu_merging = 2;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_model_params {
    pub struct_size: u32,
    pub backend: *const c_char,
    pub device: *const c_char,
    pub threads: i32,
    pub precision: swu_precision,
    pub in_channels: i32,
    pub out_channels: i32,
    pub feature_size: i32,
    pub depths: [i32; 4],
    pub num_heads: [i32; 4],
    pub merging: swu_merging,
}

pub type swu_dtype = i32;
pub const SWU_DTYPE_FLOAT32: swu_dtype = 0;
pub const SWU_DTYPE_FLOAT16: swu_dtype = 1;
pub const SWU_DTYPE_BFLOAT16: swu_dtype = 2;
pub const SWU_DTYPE_INT64: swu_dtype = 3;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_named_tensor {
    pub name: *const c_char,
    pub dtype: swu_dtype,
    pub ndim: i32,
    pub shape: *const i64,
    pub data: *const c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_model_info {
    pub struct_size: u32,
    pub backend: *const c_char,
    pub device: *const c_char,
    pub threads: i32,
    pub precision: swu_precision,
    pub weights_loaded: i32,
    pub in_channels: i32,
    pub out_channels: i32,
    pub feature_size: i32,
    pub depths: [i32; 4],
    pub num_heads: [i32; 4],
    pub merging: swu_merging,
    pub parameter_count: i64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_tap {
    pub name: *const c_char,
    pub data: *mut f32,
    pub capacity: usize,
    pub shape: [i64; 5],
}

/// Opaque.
#[repr(C)]
pub struct swu_volume {
    _private: [u8; 0],
}

pub type swu_voxel_type = i32;
pub const SWU_VOXEL_INT16: swu_voxel_type = 0;
pub const SWU_VOXEL_UINT16: swu_voxel_type = 1;
pub const SWU_VOXEL_FLOAT32: swu_voxel_type = 2;
pub const SWU_VOXEL_UINT8: swu_voxel_type = 3;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_volume_info {
    pub struct_size: u32,
    pub type_: swu_voxel_type,
    pub size: [i64; 3],
    pub spacing: [f64; 3],
    pub origin: [f64; 3],
    pub direction: [f64; 9],
    pub data: *const c_void,
    pub strides: [i64; 3],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_volume_desc {
    pub struct_size: u32,
    pub type_: swu_voxel_type,
    pub data: *const c_void,
    pub size: [i64; 3],
    pub strides: [i64; 3],
    pub spacing: [f64; 3],
    pub origin: [f64; 3],
    pub direction: [f64; 9],
}

pub type swu_blend = i32;
pub const SWU_BLEND_CONSTANT: swu_blend = 0;
pub const SWU_BLEND_GAUSSIAN: swu_blend = 1;

pub type swu_stage = i32;
pub const SWU_STAGE_PREPROCESS: swu_stage = 0;
pub const SWU_STAGE_NETWORK: swu_stage = 1;
pub const SWU_STAGE_POSTPROCESS: swu_stage = 2;

pub type swu_progress_fn = Option<unsafe extern "C" fn(stage: swu_stage, done: i64, total: i64, user_data: *mut c_void) -> c_int>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_infer_params {
    pub struct_size: u32,
    pub roi: i32,
    pub overlap: f64,
    pub sw_batch: i32,
    pub blend: swu_blend,
    pub label_type: swu_voxel_type,
    pub progress: swu_progress_fn,
    pub progress_user_data: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct swu_abi_entry {
    pub name: *const c_char,
    pub value: i64,
    pub size: i64,
}

extern "C" {
    pub fn swu_version_number() -> u32;
    pub fn swu_version_string() -> *const c_char;
    pub fn swu_abi_version() -> u32;
    pub fn swu_status_string(status: swu_status) -> *const c_char;
    pub fn swu_last_error() -> *const c_char;
    pub fn swu_set_log_callback(f: swu_log_fn, user_data: *mut c_void, min_level: swu_log_level) -> swu_status;

    pub fn swu_backends_load(folder: *const c_char, loaded_count: *mut usize) -> swu_status;
    pub fn swu_backend_count(count: *mut usize) -> swu_status;
    pub fn swu_backend_get_info(index: usize, info: *mut swu_backend_info) -> swu_status;
    pub fn swu_backend_get_device(backend_index: usize, device_index: i32, info: *mut swu_device_info) -> swu_status;

    pub fn swu_model_params_init(params: *mut swu_model_params) -> swu_status;
    pub fn swu_model_create(params: *const swu_model_params, model: *mut *mut swu_model) -> swu_status;
    pub fn swu_model_free(model: *mut swu_model);
    pub fn swu_model_load_weights(model: *mut swu_model, path: *const c_char) -> swu_status;
    pub fn swu_model_set_weights(model: *mut swu_model, tensors: *const swu_named_tensor, count: usize) -> swu_status;
    pub fn swu_model_get_info(model: *mut swu_model, info: *mut swu_model_info) -> swu_status;
    pub fn swu_model_forward(
        model: *mut swu_model,
        input: *const f32,
        shape: *const i64,
        output: *mut f32,
        output_count: usize,
    ) -> swu_status;
    pub fn swu_model_forward_taps(
        model: *mut swu_model,
        input: *const f32,
        shape: *const i64,
        taps: *mut swu_tap,
        tap_count: usize,
    ) -> swu_status;

    pub fn swu_volume_read(path: *const c_char, volume: *mut *mut swu_volume) -> swu_status;
    pub fn swu_volume_desc_init(desc: *mut swu_volume_desc) -> swu_status;
    pub fn swu_volume_wrap(desc: *const swu_volume_desc, volume: *mut *mut swu_volume) -> swu_status;
    pub fn swu_volume_get_info(volume: *const swu_volume, info: *mut swu_volume_info) -> swu_status;
    pub fn swu_volume_write(volume: *const swu_volume, path: *const c_char) -> swu_status;
    pub fn swu_volume_free(volume: *mut swu_volume);
    pub fn swu_volume_get_channels(volume: *const swu_volume, channels: *mut i64, channel_stride: *mut i64) -> swu_status;

    pub fn swu_infer_params_init(params: *mut swu_infer_params) -> swu_status;
    pub fn swu_infer(
        model: *mut swu_model,
        image: *const swu_volume,
        params: *const swu_infer_params,
        labels: *mut *mut swu_volume,
    ) -> swu_status;
    pub fn swu_infer_with_probabilities(
        model: *mut swu_model,
        image: *const swu_volume,
        params: *const swu_infer_params,
        labels: *mut *mut swu_volume,
        probabilities: *mut *mut swu_volume,
    ) -> swu_status;

    pub fn swu_abi_layout(entries: *mut *const swu_abi_entry, count: *mut usize) -> swu_status;
    pub fn swu_abi_lookup(name: *const c_char, value: *mut i64, size: *mut i64) -> swu_status;
}
