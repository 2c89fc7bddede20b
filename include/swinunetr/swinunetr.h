/*
 * swinunetr.h — the public C API of swinunetr, the only header a host needs.
 *
 * swinunetr runs MONAI's Swin UNETR network (model-zoo bundle
 * `swin_unetr_btcv_segmentation`: 13 abdominal organs + background in CT) behind a
 * stable C ABI. The network itself is computed by backend plugins loaded at run time
 * (LibTorch "torch", oneDNN "onednn"); this library parses weights, checks every
 * argument and turns every failure into a status code plus a message.
 *
 * Basic usage (error handling shortened; every call returns a swu_status):
 *
 *     swu_model_params p;
 *     swu_model_params_init(&p);          // backend "auto", device "cpu", all cores
 *     p.threads = 4;
 *     swu_model* m = NULL;
 *     if (swu_model_create(&p, &m) != SWU_OK) { fprintf(stderr, "%s\n", swu_last_error()); }
 *     swu_model_load_weights(m, "models/model.pt");     // MONAI bundle checkpoint
 *     int64_t shape[5] = {1, 1, 96, 96, 96};            // N, C, D, H, W
 *     float* logits = malloc(sizeof(float) * 14 * 96 * 96 * 96);
 *     swu_model_forward(m, patch, shape, logits, 14 * 96 * 96 * 96);
 *     free(logits);
 *     swu_model_free(m);
 *
 * Conventions (they hold for every function below unless its comment says otherwise):
 * - Every function returns a swu_status; SWU_OK is 0. On failure a human-readable
 *   message is available from swu_last_error() on the same thread. Nothing is
 *   modified on failure except where stated (outputs may be partly written).
 * - No exception, abort or C++ type ever crosses this boundary.
 * - Structs passed in begin with `uint32_t struct_size`; fill them with the matching
 *   *_init() function, then change fields. The library reads only the fields that
 *   existed in the version the caller compiled against, so fields can be appended
 *   without breaking old hosts.
 * - Tensors are dense, C order (last index fastest), float32, native endianness.
 *   Shapes are int64_t[5] = {N, C, D, H, W}: batch, channels and the three spatial
 *   axes in the order the data is stored (for MONAI-oriented volumes: i, j, k after
 *   orientation to RAS; the first spatial axis is not the slice axis).
 * - *_free(NULL) is a no-op.
 * - Strings returned by the library are UTF-8 and owned by the library; each
 *   function says how long they stay valid.
 *
 * Thread safety: functions may be called from any thread. Different models are
 * independent and may run concurrently. One model serves one call at a time: a call
 * on a model that is busy in another thread returns SWU_ERR_BUSY at once (it neither
 * waits nor races). Backend discovery and the log settings are process-wide and
 * internally locked.
 */
#ifndef SWINUNETR_H
#define SWINUNETR_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(SWU_BUILDING_LIBRARY)
#    define SWU_API __declspec(dllexport)
#  else
#    define SWU_API __declspec(dllimport)
#  endif
#else
#  define SWU_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------ */
/* Versions                                                                         */
/* ------------------------------------------------------------------------------ */

#define SWU_VERSION_MAJOR 0
#define SWU_VERSION_MINOR 1
#define SWU_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH, comparable with swu_version_number(). */
#define SWU_VERSION_NUMBER (SWU_VERSION_MAJOR * 10000 + SWU_VERSION_MINOR * 100 + SWU_VERSION_PATCH)
#define SWU_VERSION_STRING "0.1.0"
/**
 * The C ABI version: bumped whenever a struct layout, an enum value or a function's
 * meaning changes incompatibly. A binding built against this header should refuse to
 * run when swu_abi_version() differs from SWU_ABI_VERSION.
 */
#define SWU_ABI_VERSION 1

/** Library version as SWU_VERSION_NUMBER of the library actually loaded. */
SWU_API uint32_t swu_version_number(void);
/** Library version string, e.g. "0.1.0". Static storage, never freed. */
SWU_API const char* swu_version_string(void);
/** ABI version of the library actually loaded; compare with SWU_ABI_VERSION. */
SWU_API uint32_t swu_abi_version(void);

/* ------------------------------------------------------------------------------ */
/* Status and errors                                                                */
/* ------------------------------------------------------------------------------ */

/** Result of every call. Values are stable and never reused; new ones are appended. */
typedef enum swu_status {
    SWU_OK = 0,
    /** A NULL pointer, a bad struct_size, an unknown enum value, a bad shape, a
     *  NaN/Inf input value, a malformed option string. */
    SWU_ERR_INVALID_ARGUMENT = 1,
    /** A file or folder could not be opened, read or written (message names it). */
    SWU_ERR_IO = 2,
    /** A file is not in the expected format, is truncated or corrupt, or (for
     *  checkpoints) asks for something a plain state_dict never needs, such as
     *  calling an arbitrary Python function. Nothing in the file is executed. */
    SWU_ERR_FORMAT = 3,
    /** The request is valid but not supported by this build or backend
     *  (e.g. a precision or device the chosen backend does not offer). */
    SWU_ERR_UNSUPPORTED = 4,
    /** No usable backend: none found, the named one is missing or failed to load
     *  (the message gives the reason), or it failed internally. */
    SWU_ERR_BACKEND = 5,
    /** Weights do not fit the network: missing or unexpected keys, wrong shapes,
     *  non-finite values (the message names the first offenders). */
    SWU_ERR_WEIGHTS = 6,
    /** The call is not valid in the object's current state (e.g. forward before any
     *  weights were loaded). */
    SWU_ERR_STATE = 7,
    /** A caller-provided output buffer is too small; the required size is reported
     *  where the function says so. */
    SWU_ERR_BUFFER_TOO_SMALL = 8,
    /** Memory could not be allocated (or a request exceeds the library's limits). */
    SWU_ERR_OUT_OF_MEMORY = 9,
    /** The model is being used by a call in another thread. Nothing was done. */
    SWU_ERR_BUSY = 10,
    /** A bug: an unexpected internal failure. The message says where. */
    SWU_ERR_INTERNAL = 11,
    /** A progress callback asked to stop. Nothing was written or returned. */
    SWU_ERR_CANCELLED = 12,
    SWU_STATUS_FORCE_INT32 = 0x7fffffff
} swu_status;

/** A short constant description of a status ("invalid argument", ...). Never NULL;
 *  unknown values give "unknown status". Static storage. */
SWU_API const char* swu_status_string(swu_status status);

/**
 * The message of the last failed call on the calling thread ("" after a successful
 * call). Valid until the next swu_* call on this thread. Never NULL.
 */
SWU_API const char* swu_last_error(void);

/* ------------------------------------------------------------------------------ */
/* Logging                                                                          */
/* ------------------------------------------------------------------------------ */

typedef enum swu_log_level {
    SWU_LOG_DEBUG = 0,
    SWU_LOG_INFO = 1,
    SWU_LOG_WARNING = 2,
    SWU_LOG_ERROR = 3,
    SWU_LOG_NONE = 4, /* as a threshold: log nothing */
    SWU_LOG_LEVEL_FORCE_INT32 = 0x7fffffff
} swu_log_level;

/** Receives one log line (no trailing newline, valid only during the call). May be
 *  called from any thread that is inside a swu_* call. Never contains patient data. */
typedef void (*swu_log_fn)(swu_log_level level, const char* message, void* user_data);

/**
 * Routes the library's log lines (process-wide) to `fn` with `user_data`; fn = NULL
 * restores the default, which writes lines at or above the threshold to stderr
 * prefixed with "swinunetr: ". Messages below `min_level` are dropped before
 * formatting. Default threshold: SWU_LOG_WARNING (or the environment variable
 * SWU_LOG_LEVEL = debug | info | warning | error | none, read once at load).
 * Errors: SWU_ERR_INVALID_ARGUMENT for an unknown level.
 */
SWU_API swu_status swu_set_log_callback(swu_log_fn fn, void* user_data, swu_log_level min_level);

/* ------------------------------------------------------------------------------ */
/* Backends                                                                         */
/* ------------------------------------------------------------------------------ */

/** Backend capability bits (swu_backend_info.capabilities). */
#define SWU_CAP_INFER (1u << 0) /* forward pass */
#define SWU_CAP_TRAIN (1u << 1) /* training step */
#define SWU_CAP_FP32 (1u << 8)
#define SWU_CAP_BF16 (1u << 9)
#define SWU_CAP_FP16 (1u << 10)

/**
 * Loads backend plugins (files named libswinunetr_<name>.so) into the process-wide
 * registry. With `folder` != NULL only that folder is scanned (a relative path is
 * taken relative to the current directory, since the caller named it). With
 * folder == NULL the default search runs, in this order:
 *   1. every absolute folder in the environment variable SWU_BACKEND_PATH
 *      (':'-separated; relative entries are ignored with a warning),
 *   2. the install folder (<libdir>/swinunetr/backends of the configured prefix),
 *   3. <folder of libswinunetr.so>/swinunetr/backends.
 * The current directory is never searched implicitly. A file already loaded is
 * skipped; a second plugin with the name of a loaded backend is listed with an error.
 *
 * A plugin that fails to load (missing dependency, missing entry symbol, different
 * plugin ABI version) does not make this call fail: it is listed with loaded = 0 and
 * the reason (see swu_backend_get_info). swu_model_create() runs the default search
 * itself when no backend has been loaded yet.
 * `loaded_count` (may be NULL) receives the number of plugins newly loaded by this call.
 * Errors: SWU_ERR_IO when an explicitly named folder does not exist.
 */
SWU_API swu_status swu_backends_load(const char* folder, size_t* loaded_count);

/** Number of entries in the registry (loaded plugins and failed ones). */
SWU_API swu_status swu_backend_count(size_t* count);

/** One registry entry. Strings live as long as the process (the registry never
 *  shrinks); `error` is "" for a loaded backend. */
typedef struct swu_backend_info {
    uint32_t struct_size;
    const char* name;          /* "torch", "onednn"; the file stem when not loaded */
    const char* path;          /* absolute path of the plugin file */
    int32_t loaded;            /* 1 = usable, 0 = failed (see error) */
    const char* error;         /* why it failed to load, "" when loaded */
    const char* version;       /* plugin and engine versions, e.g. "libtorch 1.13.1" */
    uint32_t capabilities;     /* SWU_CAP_* bits; 0 when not loaded */
    int32_t device_count;      /* devices usable by this backend (>= 1 when loaded: "cpu") */
} swu_backend_info;

/** Fills *info (set info->struct_size = sizeof(swu_backend_info) first) for entry
 *  `index` < swu_backend_count(). Errors: SWU_ERR_INVALID_ARGUMENT (index, NULL,
 *  struct_size). */
SWU_API swu_status swu_backend_get_info(size_t index, swu_backend_info* info);

/** One device of a backend. Strings valid for the life of the process. */
typedef struct swu_device_info {
    uint32_t struct_size;
    const char* name;          /* device string accepted by swu_model_params.device: "cpu", "cuda:0" */
    const char* description;   /* e.g. CPU model or GPU name */
    uint64_t memory_bytes;     /* total memory of the device, 0 if unknown */
} swu_device_info;

/** Fills *info (struct_size set by the caller) for device `device_index` <
 *  device_count of loaded backend `backend_index`. Errors: SWU_ERR_INVALID_ARGUMENT;
 *  SWU_ERR_STATE for a backend that failed to load. */
SWU_API swu_status swu_backend_get_device(size_t backend_index, int32_t device_index, swu_device_info* info);

/* ------------------------------------------------------------------------------ */
/* Model                                                                            */
/* ------------------------------------------------------------------------------ */

/** Opaque network instance: one backend, one device, one set of weights. */
typedef struct swu_model swu_model;

typedef enum swu_precision {
    SWU_PRECISION_FP32 = 0,
    SWU_PRECISION_BF16 = 1,
    SWU_PRECISION_FP16 = 2,
    SWU_PRECISION_FORCE_INT32 = 0x7fffffff
} swu_precision;

/** How Swin stages merge 2x2x2 tokens ("downsample" in MONAI). Weights do not say
 *  which one they were trained with; choosing the wrong one computes something else. */
typedef enum swu_merging {
    /** MONAI <= 1.4 "merging" (v0.9 PatchMerging), what the bundle was trained with:
     *  sub-grids (0,0,0)(1,0,0)(0,1,0)(0,0,1)(1,0,1)(0,1,0)(0,0,1)(1,1,1) (d,h,w). */
    SWU_MERGING_LEGACY = 0,
    /** MONAI >= 1.5 "merging": (0,0,0)(1,0,0)(0,1,0)(0,0,1)(1,1,0)(1,0,1)(0,1,1)(1,1,1). */
    SWU_MERGING_MONAI15 = 1,
    /** MONAI "mergingv2": itertools.product order (0,0,0)(0,0,1)(0,1,0)(0,1,1)(1,0,0)... */
    SWU_MERGING_V2 = 2,
    SWU_MERGING_FORCE_INT32 = 0x7fffffff
} swu_merging;

/**
 * Everything needed to create a model. Network fields set to 0 are inferred from the
 * weights when they are loaded (the bundle's model.pt gives in 1, out 14, feature 48,
 * depths 2,2,2,2, heads 3,6,12,24). Window 7, patch 2, MLP ratio 4, qkv bias and
 * normalize=True are fixed, as in the bundle.
 */
typedef struct swu_model_params {
    uint32_t struct_size;
    const char* backend;        /* "auto" (default; the best loaded backend for device and
                                   precision), or a backend name such as "torch". Copied. */
    const char* device;         /* "cpu" (default) or "cuda:N". Copied. */
    int32_t threads;            /* CPU threads for this model's calls; 0 = all cores (default) */
    swu_precision precision;    /* default SWU_PRECISION_FP32 */
    int32_t in_channels;        /* 0 = from weights */
    int32_t out_channels;       /* 0 = from weights */
    int32_t feature_size;       /* 0 = from weights; must be a multiple of 12 */
    int32_t depths[4];          /* Swin blocks per stage; all 0 = from weights */
    int32_t num_heads[4];       /* attention heads per stage; all 0 = from weights */
    swu_merging merging;        /* default SWU_MERGING_LEGACY (the bundle's) */
} swu_model_params;

/** Sets struct_size and the defaults documented above. Errors: NULL. */
SWU_API swu_status swu_model_params_init(swu_model_params* params);

/**
 * Creates a model on the chosen backend and device. Loads the default backends first
 * if none has been loaded. The model computes nothing until weights are loaded.
 * On success *model is a new handle owned by the caller (free with swu_model_free).
 * Errors: SWU_ERR_INVALID_ARGUMENT (bad params), SWU_ERR_BACKEND (no such or no
 * usable backend), SWU_ERR_UNSUPPORTED (device or precision not offered by it).
 */
SWU_API swu_status swu_model_create(const swu_model_params* params, swu_model** model);

/** Frees a model and everything it owns. NULL is a no-op. Must not race a call on
 *  the same model. */
SWU_API void swu_model_free(swu_model* model);

/**
 * Loads weights from a file: a PyTorch checkpoint as MONAI ships `models/model.pt`
 * (torch.save of a state_dict, zip format of PyTorch >= 1.6; also a dict wrapping it
 * under "model" or "state_dict"; DDP's "module." prefix is stripped) or a
 * .safetensors file. Only the data a state_dict needs is accepted: the reader never
 * executes code from the file. float32, float16 and bfloat16 tensors are accepted
 * (converted to float32). Network fields left 0 in the params are inferred first;
 * then keys and shapes must match the network exactly.
 * On failure the model keeps its previous weights (if any).
 * Errors: SWU_ERR_IO, SWU_ERR_FORMAT (not a checkpoint, corrupt, truncated, refused
 * pickle content), SWU_ERR_WEIGHTS (keys/shapes/values do not fit), SWU_ERR_BUSY.
 */
SWU_API swu_status swu_model_load_weights(swu_model* model, const char* path);

typedef enum swu_dtype {
    SWU_DTYPE_FLOAT32 = 0,
    SWU_DTYPE_FLOAT16 = 1,
    SWU_DTYPE_BFLOAT16 = 2,
    SWU_DTYPE_INT64 = 3,
    SWU_DTYPE_FORCE_INT32 = 0x7fffffff
} swu_dtype;

/** A named, dense, C-order tensor owned by the caller (used to hand over weights). */
typedef struct swu_named_tensor {
    const char* name;           /* state_dict key, e.g. "swinViT.patch_embed.proj.weight" */
    swu_dtype dtype;
    int32_t ndim;               /* 0..8 */
    const int64_t* shape;       /* ndim entries */
    const void* data;           /* product(shape) elements of dtype */
} swu_named_tensor;

/**
 * Loads weights from memory, with the same rules as swu_model_load_weights (MONAI key
 * names, "module." stripped). The data are copied; the caller keeps ownership.
 * Errors: SWU_ERR_INVALID_ARGUMENT (NULL, bad dtype/ndim), SWU_ERR_WEIGHTS, SWU_ERR_BUSY.
 */
SWU_API swu_status swu_model_set_weights(swu_model* model, const swu_named_tensor* tensors, size_t count);

/** What a model is, after weights are loaded (network fields are 0 before). */
typedef struct swu_model_info {
    uint32_t struct_size;
    const char* backend;        /* backend name; valid while the model lives */
    const char* device;         /* device string; valid while the model lives */
    int32_t threads;            /* threads actually used */
    swu_precision precision;
    int32_t weights_loaded;     /* 1 once weights are loaded */
    int32_t in_channels;
    int32_t out_channels;
    int32_t feature_size;
    int32_t depths[4];
    int32_t num_heads[4];
    swu_merging merging;
    int64_t parameter_count;    /* learnable parameters (62,187,296 for the bundle's network) */
} swu_model_info;

/** Fills *info (struct_size set by the caller). Errors: NULL, struct_size. */
SWU_API swu_status swu_model_get_info(swu_model* model, swu_model_info* info);

/**
 * Runs the network on a batch of patches.
 * input:  shape = {N, C, D, H, W}, C = in_channels, D, H, W positive multiples of 32,
 *         finite float32 values (CT patches are normally scaled to 0..1).
 * output: at least N * out_channels * D * H * W floats (`output_count`), receives the
 *         raw logits {N, out_channels, D, H, W} (no softmax).
 * Both buffers belong to the caller and must not overlap.
 * Errors: SWU_ERR_INVALID_ARGUMENT (NULL, shape, NaN/Inf in input),
 * SWU_ERR_BUFFER_TOO_SMALL, SWU_ERR_STATE (no weights), SWU_ERR_OUT_OF_MEMORY,
 * SWU_ERR_BUSY, SWU_ERR_BACKEND.
 */
SWU_API swu_status swu_model_forward(swu_model* model, const float* input, const int64_t shape[5],
                                     float* output, size_t output_count);

/**
 * An intermediate result to capture during a forward pass (for parity checks against
 * a Python reference, layer by layer). Names (MONAI module in brackets):
 *   "hidden0".."hidden4"   swinViT hidden states, layer-normalised [swinViT(x, True)[s]]
 *   "enc0".."enc3"         [encoder1 .. encoder4]
 *   "dec4".."dec0"         [encoder10, decoder5, decoder4, decoder3, decoder2]
 *   "dec_out"              [decoder1]
 *   "logits"               [out]
 *   "stage<s>.block<b>"    output of Swin block b (0-based) of stage s (1..4)
 *                          [swinViT.layers<s>.0.blocks.<b>], before patch merging
 * Every tap is delivered channel-first, {N, C, D, H, W}, also the Swin block outputs
 * (MONAI keeps those channels-last).
 */
typedef struct swu_tap {
    const char* name;           /* in: one of the names above */
    float* data;                /* in: caller buffer of `capacity` floats (may be NULL if capacity 0) */
    size_t capacity;            /* in */
    int64_t shape[5];           /* out: the tap's shape, also when the buffer was too small */
} swu_tap;

/**
 * Like swu_model_forward, but captures the requested taps instead of (or, with a
 * "logits" tap, as well as) returning the logits. One forward pass serves all taps.
 * If a buffer is too small, every tap's shape is still filled, nothing is copied and
 * SWU_ERR_BUFFER_TOO_SMALL is returned (call again with larger buffers).
 * Errors: as swu_model_forward; SWU_ERR_INVALID_ARGUMENT for an unknown tap name.
 */
SWU_API swu_status swu_model_forward_taps(swu_model* model, const float* input, const int64_t shape[5],
                                          swu_tap* taps, size_t tap_count);

/* ------------------------------------------------------------------------------ */
/* Volumes                                                                          */
/* ------------------------------------------------------------------------------ */

/** Opaque 3D image with its patient geometry. */
typedef struct swu_volume swu_volume;

typedef enum swu_voxel_type {
    SWU_VOXEL_INT16 = 0,   /* CT in Hounsfield units */
    SWU_VOXEL_UINT16 = 1,
    SWU_VOXEL_FLOAT32 = 2,
    SWU_VOXEL_UINT8 = 3,   /* label maps */
    SWU_VOXEL_FORCE_INT32 = 0x7fffffff
} swu_voxel_type;

/**
 * Geometry follows ITK and DICOM (LPS patient coordinates, mm): the world position of
 * voxel index (i, j, k) is origin + direction * diag(spacing) * (i, j, k). `direction`
 * is row-major 3x3; its column c is the unit vector of voxel axis c. (NIfTI's RAS
 * affine is this with the first two world rows negated.)
 */
typedef struct swu_volume_info {
    uint32_t struct_size;
    swu_voxel_type type;
    int64_t size[3];        /* voxels along i, j, k */
    double spacing[3];      /* mm */
    double origin[3];       /* mm, LPS, centre of voxel (0, 0, 0) */
    double direction[9];
    const void* data;       /* the voxels; valid while the volume lives (and, for a wrapped
                               volume, while the caller's buffer does) */
    int64_t strides[3];     /* elements between neighbours along i, j, k */
} swu_volume_info;

/**
 * Reads a volume: a NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr) or MetaImage (.mha,
 * .mhd) file, or a folder with a DICOM series (the series with the most slices;
 * slices ordered by position). Voxels are stored as float32 (exact for CT's int16).
 * On success *volume is owned by the caller (swu_volume_free).
 * Errors: SWU_ERR_IO (missing), SWU_ERR_FORMAT (unreadable), SWU_ERR_INVALID_ARGUMENT
 * (not 3D), SWU_ERR_UNSUPPORTED (multi-component, or a build without ITK).
 */
SWU_API swu_status swu_volume_read(const char* path, swu_volume** volume);

/** Describes a caller buffer for swu_volume_wrap. */
typedef struct swu_volume_desc {
    uint32_t struct_size;
    swu_voxel_type type;     /* default SWU_VOXEL_INT16 */
    const void* data;        /* required; must outlive the volume; never written */
    int64_t size[3];         /* required, each >= 1 */
    int64_t strides[3];      /* elements; all 0 (default) = dense with i fastest (NIfTI/ITK/DICOM order) */
    double spacing[3];       /* mm, default 1, 1, 1 */
    double origin[3];        /* mm, LPS, default 0, 0, 0 */
    double direction[9];     /* default identity */
} swu_volume_desc;

/** Sets struct_size and the defaults above (data NULL, size 0). */
SWU_API swu_status swu_volume_desc_init(swu_volume_desc* desc);

/** Wraps caller memory without copying. Errors: SWU_ERR_INVALID_ARGUMENT (NULL data,
 *  sizes, spacing, singular direction), SWU_ERR_OUT_OF_MEMORY (over 2^31 voxels). */
SWU_API swu_status swu_volume_wrap(const swu_volume_desc* desc, swu_volume** volume);

/** Fills *info (struct_size set by the caller). */
SWU_API swu_status swu_volume_get_info(const swu_volume* volume, swu_volume_info* info);

/**
 * Writes a volume with its geometry; the format follows the extension (.nii.gz, .nii,
 * .nrrd, .mha; .mhd and .nhdr are written in place). Other formats appear only once
 * complete: they are written under a temporary name in the same folder and renamed.
 * Errors: SWU_ERR_INVALID_ARGUMENT (unknown extension), SWU_ERR_IO.
 */
SWU_API swu_status swu_volume_write(const swu_volume* volume, const char* path);

/** Frees a volume (never the caller's wrapped buffer). NULL is a no-op. */
SWU_API void swu_volume_free(swu_volume* volume);

/* ------------------------------------------------------------------------------ */
/* Segmentation of a whole volume                                                   */
/* ------------------------------------------------------------------------------ */

typedef enum swu_blend {
    SWU_BLEND_CONSTANT = 0,  /* overlapping windows are averaged (the bundle's setting) */
    SWU_BLEND_GAUSSIAN = 1,  /* weighted by a Gaussian, sigma = 0.125 * roi */
    SWU_BLEND_FORCE_INT32 = 0x7fffffff
} swu_blend;

typedef enum swu_stage {
    SWU_STAGE_PREPROCESS = 0,   /* orientation, resampling, intensity scaling */
    SWU_STAGE_NETWORK = 1,      /* done/total count windows */
    SWU_STAGE_POSTPROCESS = 2,  /* done/total count output slices */
    SWU_STAGE_FORCE_INT32 = 0x7fffffff
} swu_stage;

/** Called on the thread that called swu_infer; return non-zero to cancel (the call then
 *  returns SWU_ERR_CANCELLED and produces nothing). */
typedef int (*swu_progress_fn)(swu_stage stage, int64_t done, int64_t total, void* user_data);

typedef struct swu_infer_params {
    uint32_t struct_size;
    int32_t roi;                 /* sliding-window size in voxels per axis, default 96 */
    double overlap;              /* fraction shared by neighbouring windows, default 0.5 */
    int32_t sw_batch;            /* windows per network call, default 4 */
    swu_blend blend;             /* default SWU_BLEND_CONSTANT */
    swu_voxel_type label_type;   /* SWU_VOXEL_UINT8 (default) or SWU_VOXEL_FLOAT32 */
    swu_progress_fn progress;    /* may be NULL */
    void* progress_user_data;
} swu_infer_params;

/** Sets struct_size and the defaults above (the bundle's inference.json). */
SWU_API swu_status swu_infer_params_init(swu_infer_params* params);

/**
 * Segments a CT volume exactly as the bundle's inference.json: orientation to RAS,
 * resampling to 1.5 x 1.5 x 2.0 mm (bilinear), intensity -175..250 HU -> 0..1 (clipped),
 * sliding-window inference, softmax, resampling back to the image's own grid, argmax.
 * *labels receives a new volume (class 0..13 per voxel, the image's geometry) owned by
 * the caller. Memory stays bounded by the network-grid logits: probabilities are never
 * held at the source resolution. Uses the model's thread count.
 * Errors: SWU_ERR_INVALID_ARGUMENT (params, NaN voxels), SWU_ERR_STATE (no weights),
 * SWU_ERR_CANCELLED, SWU_ERR_BUSY, SWU_ERR_OUT_OF_MEMORY, SWU_ERR_BACKEND.
 */
SWU_API swu_status swu_infer(swu_model* model, const swu_volume* image, const swu_infer_params* params,
                             swu_volume** labels);

/* ------------------------------------------------------------------------------ */
/* Limits and robustness (issue 9)                                                  */
/* ------------------------------------------------------------------------------ */

/*
 * Every size a file or a caller states is checked before memory is allocated, so an
 * absurd request fails with SWU_ERR_OUT_OF_MEMORY (and a message naming the limit)
 * instead of exhausting the host process:
 * - volumes (swu_volume_read, swu_volume_wrap, label maps) and the resampled network
 *   grid of swu_infer may hold at most the voxel cap below; file headers are checked
 *   before their voxels are read. Each axis is at most 65536 voxels. swu_infer needs
 *   about 4 * (out_channels + 2) bytes per network-grid voxel at its peak.
 * - swu_model_forward: at most 64 GiB per activation.
 * - checkpoints: ZIP entries of at most 16 GiB inflated, a data.pkl of at most 1 GiB,
 *   safetensors headers of at most 100 MB; see SECURITY.md for what is refused.
 * See SECURITY.md in the source tree for the whole list and for what is logged.
 */

/** The default voxel cap, 2^31 voxels (a 4096 x 4096 x 128 volume, 8 GiB as float32). */
#define SWU_DEFAULT_MAX_VOXELS ((int64_t)1 << 31)

/**
 * Sets the process-wide voxel cap (> 0), or with 0 restores the default: the
 * environment variable SWU_MAX_VOXELS (a positive integer, read once at first use)
 * if set, else SWU_DEFAULT_MAX_VOXELS. Takes effect for calls that start afterwards;
 * safe to call from any thread.
 * Errors: SWU_ERR_INVALID_ARGUMENT for a negative value.
 */
SWU_API swu_status swu_set_max_voxels(int64_t max_voxels);

/** The voxel cap in force. Errors: SWU_ERR_INVALID_ARGUMENT (NULL). */
SWU_API swu_status swu_get_max_voxels(int64_t* max_voxels);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWINUNETR_H */
