//! The ABI check: this crate's `sys` declarations against the library's own layout
//! table (`swu_abi_layout`). Run once before the first call of the safe layer.
//!
//! ```
//! // What the crate's first constructor checks (via swinunetr::ensure_compatible):
//! let problems = swinunetr::abi::layout_mismatches(false);
//! assert!(problems.is_empty(), "{problems:?}");
//! ```
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::mem::{size_of, MaybeUninit};

use crate::sys::*;

/// One entry of the crate's view: C name, value (size, offset or constant), size.
///
/// ```
/// let entries: Vec<swinunetr::abi::Entry> = swinunetr::abi::binding_layout();
/// let (name, value, size) = &entries[0];
/// println!("{name} = {value} ({size} bytes)");
/// ```
pub type Entry = (String, i64, i64);

fn size_of_pointee<T>(_: *const T) -> i64 {
    size_of::<T>() as i64
}

macro_rules! ty {
    ($t:ident) => {
        (stringify!($t).to_string(), size_of::<$t>() as i64, size_of::<$t>() as i64)
    };
}
macro_rules! field {
    ($t:ident . $f:ident) => {
        field!($t . $f as stringify!($f))
    };
    ($t:ident . $f:ident as $name:expr) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: only the field's address is computed; nothing is read.
        let p = unsafe { std::ptr::addr_of!((*base).$f) };
        (format!("{}.{}", stringify!($t), $name), p as i64 - base as i64, size_of_pointee(p))
    }};
}
macro_rules! konst {
    ($($c:ident),* $(,)?) => { vec![$((stringify!($c).to_string(), $c as i64, 4)),*] };
}

/// Every type, field and constant `sys` declares, named as in `swu_abi_entry`.
///
/// ```
/// let mine = swinunetr::abi::binding_layout();
/// let size = mine.iter().find(|(name, _, _)| name == "swu_infer_params").map(|e| e.1);
/// assert_eq!(size, Some(std::mem::size_of::<swinunetr::sys::swu_infer_params>() as i64));
/// ```
pub fn binding_layout() -> Vec<Entry> {
    let mut v = konst![
        SWU_ABI_VERSION, SWU_OK, SWU_ERR_INVALID_ARGUMENT, SWU_ERR_IO, SWU_ERR_FORMAT, SWU_ERR_UNSUPPORTED,
        SWU_ERR_BACKEND, SWU_ERR_WEIGHTS, SWU_ERR_STATE, SWU_ERR_BUFFER_TOO_SMALL, SWU_ERR_OUT_OF_MEMORY,
        SWU_ERR_BUSY, SWU_ERR_INTERNAL, SWU_ERR_CANCELLED, SWU_LOG_DEBUG, SWU_LOG_INFO, SWU_LOG_WARNING,
        SWU_LOG_ERROR, SWU_LOG_NONE, SWU_CAP_INFER, SWU_CAP_TRAIN, SWU_CAP_FP32, SWU_CAP_BF16, SWU_CAP_FP16,
        SWU_PRECISION_FP32, SWU_PRECISION_BF16, SWU_PRECISION_FP16, SWU_MERGING_LEGACY, SWU_MERGING_MONAI15,
        SWU_MERGING_V2, SWU_DTYPE_FLOAT32, SWU_DTYPE_FLOAT16, SWU_DTYPE_BFLOAT16, SWU_DTYPE_INT64,
        SWU_VOXEL_INT16, SWU_VOXEL_UINT16, SWU_VOXEL_FLOAT32, SWU_VOXEL_UINT8, SWU_BLEND_CONSTANT,
        SWU_BLEND_GAUSSIAN, SWU_STAGE_PREPROCESS, SWU_STAGE_NETWORK, SWU_STAGE_POSTPROCESS,
    ];
    v.extend([
        ty!(swu_status), ty!(swu_log_level), ty!(swu_precision), ty!(swu_merging), ty!(swu_dtype),
        ty!(swu_voxel_type), ty!(swu_blend), ty!(swu_stage),
        ty!(swu_backend_info), field!(swu_backend_info.struct_size), field!(swu_backend_info.name),
        field!(swu_backend_info.path), field!(swu_backend_info.loaded), field!(swu_backend_info.error),
        field!(swu_backend_info.version), field!(swu_backend_info.capabilities),
        field!(swu_backend_info.device_count),
        ty!(swu_device_info), field!(swu_device_info.struct_size), field!(swu_device_info.name),
        field!(swu_device_info.description), field!(swu_device_info.memory_bytes),
        ty!(swu_model_params), field!(swu_model_params.struct_size), field!(swu_model_params.backend),
        field!(swu_model_params.device), field!(swu_model_params.threads), field!(swu_model_params.precision),
        field!(swu_model_params.in_channels), field!(swu_model_params.out_channels),
        field!(swu_model_params.feature_size), field!(swu_model_params.depths),
        field!(swu_model_params.num_heads), field!(swu_model_params.merging),
        ty!(swu_named_tensor), field!(swu_named_tensor.name), field!(swu_named_tensor.dtype),
        field!(swu_named_tensor.ndim), field!(swu_named_tensor.shape), field!(swu_named_tensor.data),
        ty!(swu_model_info), field!(swu_model_info.struct_size), field!(swu_model_info.backend),
        field!(swu_model_info.device), field!(swu_model_info.threads), field!(swu_model_info.precision),
        field!(swu_model_info.weights_loaded), field!(swu_model_info.in_channels),
        field!(swu_model_info.out_channels), field!(swu_model_info.feature_size), field!(swu_model_info.depths),
        field!(swu_model_info.num_heads), field!(swu_model_info.merging), field!(swu_model_info.parameter_count),
        ty!(swu_tap), field!(swu_tap.name), field!(swu_tap.data), field!(swu_tap.capacity), field!(swu_tap.shape),
        ty!(swu_volume_info), field!(swu_volume_info.struct_size), field!(swu_volume_info.type_ as "type"),
        field!(swu_volume_info.size), field!(swu_volume_info.spacing), field!(swu_volume_info.origin),
        field!(swu_volume_info.direction), field!(swu_volume_info.data), field!(swu_volume_info.strides),
        ty!(swu_volume_desc), field!(swu_volume_desc.struct_size), field!(swu_volume_desc.type_ as "type"),
        field!(swu_volume_desc.data), field!(swu_volume_desc.size), field!(swu_volume_desc.strides),
        field!(swu_volume_desc.spacing), field!(swu_volume_desc.origin), field!(swu_volume_desc.direction),
        ty!(swu_infer_params), field!(swu_infer_params.struct_size), field!(swu_infer_params.roi),
        field!(swu_infer_params.overlap), field!(swu_infer_params.sw_batch), field!(swu_infer_params.blend),
        field!(swu_infer_params.label_type), field!(swu_infer_params.progress),
        field!(swu_infer_params.progress_user_data),
        ty!(swu_abi_entry), field!(swu_abi_entry.name), field!(swu_abi_entry.value), field!(swu_abi_entry.size),
    ]);
    v
}

/// The library's table: name -> (value, size).
///
/// ```
/// let table = swinunetr::abi::library_layout();
/// let (value, _size) = table["SWU_ERR_CANCELLED"];
/// assert_eq!(value, swinunetr::sys::SWU_ERR_CANCELLED as i64);
/// ```
pub fn library_layout() -> BTreeMap<String, (i64, i64)> {
    let mut entries: *const swu_abi_entry = std::ptr::null();
    let mut count = 0usize;
    // SAFETY: valid out-pointers; the table is static in the library.
    let st = unsafe { swu_abi_layout(&mut entries, &mut count) };
    if st != SWU_OK || entries.is_null() {
        return BTreeMap::new();
    }
    // SAFETY: the library hands out `count` entries that live as long as the process.
    let table = unsafe { std::slice::from_raw_parts(entries, count) };
    table
        .iter()
        .map(|e| {
            // SAFETY: every name is a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(e.name) }.to_string_lossy().into_owned();
            (name, (e.value, e.size))
        })
        .collect()
}

/// Where `sys` and the library disagree, as readable lines (empty: compatible). With
/// `strict`, also every library entry `sys` does not declare (the crate's own test uses
/// that, so `sys` keeps up with the header); without, only fields of declared structs.
///
/// ```
/// for line in swinunetr::abi::layout_mismatches(true) {
///     eprintln!("binding and library differ: {line}");
/// }
/// ```
pub fn layout_mismatches(strict: bool) -> Vec<String> {
    let table = library_layout();
    if table.is_empty() {
        return vec!["swu_abi_layout returned no table".to_string()];
    }
    let mine: BTreeMap<String, (i64, i64)> = binding_layout().into_iter().map(|(n, v, s)| (n, (v, s))).collect();
    let mut problems = Vec::new();
    for (name, ours) in &mine {
        match table.get(name) {
            None => problems.push(format!("{name}: unknown to the library")),
            Some(lib) if lib != ours => problems.push(format!("{name}: binding has {ours:?}, library has {lib:?}")),
            _ => {}
        }
    }
    for name in table.keys() {
        let of_declared_struct = name.split_once('.').map_or(false, |(s, _)| mine.contains_key(s));
        if !mine.contains_key(name) && (strict || of_declared_struct) {
            problems.push(format!("{name}: missing from the binding"));
        }
    }
    problems
}
