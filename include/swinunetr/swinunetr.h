/*
 * swinunetr.h — the public C API of swinunetr, the only header a host needs.
 *
 * swinunetr runs MONAI's Swin UNETR network (model-zoo bundle
 * `swin_unetr_btcv_segmentation`: 13 abdominal organs + background in CT) behind a
 * stable C ABI. The network itself is computed by backend plugins loaded at run time
 * (LibTorch "torch", oneDNN "onednn"); this library parses weights, checks every
 * argument and turns every failure into a status code plus a message.
 *
 * Basic usage: what most hosts do, read a CT, segment it, write the label map, each
 * failure reported. This is a complete program (bindings/CMakeLists.txt extracts it from
 * this comment, builds and runs it):
 *
 *     #include <stdio.h>
 *     #include <swinunetr/swinunetr.h>
 *
 *     static int failed(const char* what) {
 *         fprintf(stderr, "%s: %s\n", what, swu_last_error());
 *         return 1;
 *     }
 *
 *     int main(int argc, char** argv) {  // CT WEIGHTS LABELS, e.g. ct.nii.gz model.pt labels.nii.gz
 *         if (argc != 4) return 2;
 *         swu_model_params p;
 *         swu_model_params_init(&p);  // backend "auto", device "cpu", all cores, fp32
 *         swu_infer_params ip;
 *         swu_infer_params_init(&ip);  // the bundle's: 96^3 windows, overlap 0.5, uint8 labels
 *         swu_model* model = NULL;
 *         swu_volume* ct = NULL;
 *         swu_volume* labels = NULL;
 *         int rc = 1;
 *         if (swu_model_create(&p, &model) != SWU_OK) rc = failed("creating the model");
 *         else if (swu_model_load_weights(model, argv[2]) != SWU_OK) rc = failed(argv[2]);  // a bundle's model.pt
 *         else if (swu_volume_read(argv[1], &ct) != SWU_OK) rc = failed(argv[1]);  // NIfTI, NRRD, MetaImage
 *         else if (swu_infer(model, ct, &ip, &labels) != SWU_OK) rc = failed("segmenting");
 *         else if (swu_volume_write(labels, argv[3]) != SWU_OK) rc = failed(argv[3]);
 *         else rc = 0;
 *         swu_volume_free(labels);  // NULL is fine
 *         swu_volume_free(ct);
 *         swu_model_free(model);
 *         return rc;
 *     }
 *
 * swu_model_forward runs the bare network on a tensor instead (logits of one batch of
 * windows), and swu_volume_read_dicom / swu_volume_write_dicom_seg /
 * swu_volume_write_dicom_rtstruct read a DICOM series and write a DICOM SEG or an RT
 * Structure Set over it.
 *
 * Conventions (they hold for every function below unless its comment says otherwise):
 * - Every function returns a swu_status; SWU_OK is 0. On failure a human-readable
 *   message is available from swu_last_error() on the same thread. Nothing is
 *   modified on failure except where stated (outputs may be partly written).
 * - No exception, abort or C++ type ever crosses this boundary.
 * - Structs passed in begin with `uint32_t struct_size`; fill them with the matching
 *   *_init() function, then change fields. The library reads only the fields that
 *   existed in the version the caller compiled against, so fields can be appended
 *   without breaking old hosts: any struct_size from the struct's first release up to
 *   the library's own is accepted; fields past the caller's struct_size take their
 *   *_init() defaults, and structs the library fills are written only up to the
 *   caller's struct_size. A struct_size beyond the library's own (a host built against
 *   a newer header than the library it loaded) is refused: SWU_ERR_INVALID_ARGUMENT.
 *   Each *_init(p) is a macro over *_init_size(p, sizeof *p), so that the host's own
 *   size reaches the library; the plain *_init functions stay for hosts built against
 *   the first release (0.1.0) and fill that release's layout.
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
 *  called from any thread that is inside a swu_* call, with no lock of the library held:
 *  it may call swu_* functions itself. Never contains patient data. */
typedef void (*swu_log_fn)(swu_log_level level, const char* message, void* user_data);

/**
 * Routes the library's log lines (process-wide) to `fn` with `user_data`; fn = NULL
 * restores the default, which writes lines at or above the threshold to stderr
 * prefixed with "swinunetr: ". Messages below `min_level` are dropped before
 * formatting. Default threshold: SWU_LOG_WARNING (or the environment variable
 * SWU_LOG_LEVEL = debug | info | warning | error | none, read once at load).
 * Returns once no other thread is still inside the previous callback (so its user_data
 * may be freed then); called from inside a callback, it returns at once.
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
SWU_API swu_status swu_model_params_init_size(swu_model_params* params, uint32_t struct_size);
#define swu_model_params_init(params) swu_model_params_init_size((params), (uint32_t)sizeof *(params))

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
 * .mhd) file, or a folder with a DICOM series (the CT series with the most slices,
 * checked and ordered as swu_volume_read_dicom describes). Voxels keep the file's type when
 * it is int16, uint16 or uint8 (half or a quarter of float32's memory; a CT of 512 x 512 x 300
 * int16 voxels holds 157 MB); anything else, and any file whose header rescales its values
 * (NIfTI scl_slope / scl_inter), is read as float32. DICOM series are read as float32 HU.
 * Check swu_volume_info.type before reading the voxels.
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
SWU_API swu_status swu_volume_desc_init_size(swu_volume_desc* desc, uint32_t struct_size);
#define swu_volume_desc_init(desc) swu_volume_desc_init_size((desc), (uint32_t)sizeof *(desc))

/** Wraps caller memory without copying. Errors: SWU_ERR_INVALID_ARGUMENT (NULL data,
 *  sizes, spacing, singular direction), SWU_ERR_OUT_OF_MEMORY (over 2^31 voxels). */
SWU_API swu_status swu_volume_wrap(const swu_volume_desc* desc, swu_volume** volume);

/** Fills *info (struct_size set by the caller). */
SWU_API swu_status swu_volume_get_info(const swu_volume* volume, swu_volume_info* info);

/**
 * Writes a volume with its geometry; the format follows the extension (.nii.gz, .nii,
 * .nrrd, .mha; .mhd and .nhdr are written in place). Other formats appear only once
 * complete: they are written under a fresh temporary name in the same folder (mode
 * 0600), read back and compared, fsynced and renamed over `path`. A full disk or a short
 * write is SWU_ERR_IO and leaves `path` as it was, and no temporary file.
 * Errors: SWU_ERR_INVALID_ARGUMENT (unknown extension), SWU_ERR_IO.
 */
SWU_API swu_status swu_volume_write(const swu_volume* volume, const char* path);

/**
 * Channels of a volume: 1 for images and label maps, out_channels for the probabilities
 * of swu_infer_with_probabilities. swu_volume_get_info describes channel 0; channel c
 * starts channel_stride elements after channel c - 1. Either output may be NULL.
 */
SWU_API swu_status swu_volume_get_channels(const swu_volume* volume, int64_t* channels, int64_t* channel_stride);

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
SWU_API swu_status swu_infer_params_init_size(swu_infer_params* params, uint32_t struct_size);
#define swu_infer_params_init(params) swu_infer_params_init_size((params), (uint32_t)sizeof *(params))

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

/**
 * swu_infer that can also return the per-class probabilities on the image's own grid:
 * the softmax of the network-grid logits resampled back (bilinear, as the bundle's
 * Invertd) — the values the labels are the argmax of. *probabilities receives a float32
 * volume of out_channels channels (14 for the bundle) in the image's geometry, each
 * channel a dense 3D volume, one after another (swu_volume_get_channels);
 * swu_volume_write stores it as a 4D image with the class as 4th axis (the layout
 * nibabel and MONAI read as [i, j, k, class]). It takes out_channels x 4 bytes per voxel
 * (4.4 GB for a 512 x 512 x 300 CT), so ask only when needed.
 * labels or probabilities may be NULL (not wanted), not both. Nothing is returned on
 * an error. Errors: as swu_infer.
 */
SWU_API swu_status swu_infer_with_probabilities(swu_model* model, const swu_volume* image, const swu_infer_params* params,
                                                swu_volume** labels, swu_volume** probabilities);

/* ------------------------------------------------------------------------------ */
/* Training: low level (one optimisation step at a time)                           */
/* ------------------------------------------------------------------------------ */
/*
 * The bundle's recipe, one piece at a time, for hosts with their own data pipeline:
 *
 *     swu_model_init_weights(m, 123);         // or swu_model_load_weights (fine-tune)
 *     swu_optimizer_params o; swu_optimizer_params_init(&o);
 *     swu_model_train_configure(m, &o);
 *     for (...) swu_model_train_step(m, images, shape, labels, &result);
 *     swu_model_save_weights(m, "model.pt");  // MONAI's format: Python's torch.load reads it
 *
 * Only backends with SWU_CAP_TRAIN train ("torch"); the others give SWU_ERR_UNSUPPORTED.
 * Loading weights (or swu_model_init_weights) ends a training configuration.
 */

/**
 * Data-parallel training over several processes (one per GPU, or several CPU processes),
 * through LibTorch's c10d (Gloo on the CPU, NCCL on CUDA); torch backend only.
 * SWU_DISTRIBUTED_ENV reads torchrun's environment: WORLD_SIZE (processes in all),
 * RANK (this one, 0-based), LOCAL_RANK (on this machine; pick the device "cuda:LOCAL_RANK"
 * yourself), MASTER_ADDR and MASTER_PORT (where rank 0 serves the rendezvous). Every rank
 * then starts from rank 0's weights, gradients are averaged over the ranks before each
 * update, and the losses reported are the mean over the ranks. Every rank must make the
 * same calls with the same shapes (a collective waits for all of them).
 */
typedef enum swu_distributed {
    SWU_DISTRIBUTED_OFF = 0,    /* one process (default) */
    SWU_DISTRIBUTED_ENV = 1,    /* join the process group that the environment describes */
    SWU_DISTRIBUTED_FORCE_INT32 = 0x7fffffff
} swu_distributed;

/** Adam as torch.optim.Adam (the bundle: lr 2e-4, other values PyTorch's defaults). */
typedef struct swu_optimizer_params {
    uint32_t struct_size;
    double learning_rate;       /* default 2e-4 */
    double beta1, beta2;        /* default 0.9, 0.999 */
    double eps;                 /* default 1e-8 */
    double weight_decay;        /* default 0 */
    int32_t amp;                /* 1: fp16 autocast with gradient scaling; CUDA only. Default 0 */
    int32_t checkpointing;      /* 1: recompute Swin block activations in the backward pass
                                   (less memory, same values; the bundle's use_checkpoint). Default 0 */
    int32_t micro_batches;      /* gradient accumulation: swu_model_train_step splits its batch into
                                   this many equal parts, one backward pass each, and averages their
                                   gradients (memory of one part; the same update as that many ranks
                                   of a distributed run). The batch must divide evenly. Default 1
                                   (0 counts as 1) */
    swu_distributed distributed;/* SWU_DISTRIBUTED_ENV: after configuring, join the process group of
                                   the environment and take rank 0's weights (a collective: every
                                   rank calls it). The model stays in the group until its weights
                                   are replaced. Default SWU_DISTRIBUTED_OFF */
    double distributed_timeout; /* seconds the rendezvous and each collective may wait for the
                                   other ranks (a stopped rank fails the others after it).
                                   Default 1800 (PyTorch's) */
} swu_optimizer_params;

SWU_API swu_status swu_optimizer_params_init(swu_optimizer_params* params);
SWU_API swu_status swu_optimizer_params_init_size(swu_optimizer_params* params, uint32_t struct_size);
#define swu_optimizer_params_init(params) swu_optimizer_params_init_size((params), (uint32_t)sizeof *(params))

/**
 * Gives the model fresh weights for training from scratch: PyTorch's / MONAI's module
 * initialisation (convolutions U(+-1/sqrt(fan_in)), Swin linears and relative-position
 * tables truncated normal std 0.02, layer norms 1 / 0), deterministic for `seed`.
 * Network fields left 0 in the model params take the bundle's values (in 1, out 14,
 * feature_size 48, depths 2,2,2,2, heads 3,6,12,24).
 * Errors: SWU_ERR_INVALID_ARGUMENT (network params), SWU_ERR_BUSY, SWU_ERR_BACKEND.
 */
SWU_API swu_status swu_model_init_weights(swu_model* model, uint64_t seed);

/** Starts training with a fresh optimiser state (Adam moments and step count 0); with
 *  params->distributed, joins the process group (see swu_distributed).
 *  Errors: SWU_ERR_UNSUPPORTED (backend cannot train or train distributed; AMP off CUDA),
 *  SWU_ERR_STATE (no weights), SWU_ERR_INVALID_ARGUMENT (params; a missing or malformed
 *  torchrun variable, RANK >= WORLD_SIZE), SWU_ERR_IO (the rendezvous failed: master
 *  unreachable or its port taken, another rank missing after the timeout), SWU_ERR_BUSY. */
SWU_API swu_status swu_model_train_configure(swu_model* model, const swu_optimizer_params* params);

typedef struct swu_train_step_result {
    uint32_t struct_size;
    double loss;                /* DiceCELoss = dice_loss + ce_loss, before this step's update */
    double dice_loss;
    double ce_loss;
    int32_t skipped;            /* 1 when AMP met non-finite gradients and skipped the update */
} swu_train_step_result;

/**
 * One optimisation step: forward, DiceCELoss(to_onehot_y, softmax, squared_pred,
 * batch=True), backward, Adam update. input {N, in_channels, D, H, W} float32 as for
 * swu_model_forward, with at least one spatial axis of 64 or more (a 32^3 input leaves a
 * single voxel at the bottleneck, where instance norm is degenerate; PyTorch refuses it
 * too); labels {N, 1, D, H, W} class indices (uint8, < out_channels).
 * `result` may be NULL. Errors: SWU_ERR_STATE (not configured), SWU_ERR_INVALID_ARGUMENT
 * (shape, NaN/Inf input, label out of range), SWU_ERR_OUT_OF_MEMORY, SWU_ERR_BUSY,
 * SWU_ERR_BACKEND. After a failure the weights are those before the step.
 */
SWU_API swu_status swu_model_train_step(swu_model* model, const float* input, const int64_t shape[5],
                                        const uint8_t* labels, swu_train_step_result* result);

typedef enum swu_tensor_set {
    SWU_TENSORS_WEIGHTS = 0,    /* the state_dict, MONAI's key names and order */
    SWU_TENSORS_GRADIENTS = 1,  /* d loss / d parameter of the last step, by key */
    SWU_TENSORS_OPTIMIZER = 2,  /* "exp_avg.<key>", "exp_avg_sq.<key>", "step" (int64 {1}) */
    SWU_TENSORS_FORCE_INT32 = 0x7fffffff
} swu_tensor_set;

/** Receives one tensor (float32, or int64 for index buffers and "step"), valid during
 *  the call only. Return non-zero to stop the export early. */
typedef int (*swu_tensor_fn)(const swu_named_tensor* tensor, void* user_data);

/** Hands every tensor of a set to `fn`. Errors: SWU_ERR_UNSUPPORTED (backend cannot
 *  train), SWU_ERR_STATE (no weights), SWU_ERR_INVALID_ARGUMENT, SWU_ERR_BUSY. */
SWU_API swu_status swu_model_export_tensors(swu_model* model, swu_tensor_set set, swu_tensor_fn fn, void* user_data);

/**
 * Writes the current weights as MONAI's model.pt: a torch.save(OrderedDict) zip archive
 * with MONAI's key names, readable by Python's torch.load, MONAI bundles and
 * swu_model_load_weights. Written to a fresh temporary file (mode 0600) in the same
 * folder, fsynced and renamed: never half-written; a full disk leaves `path` as it was.
 * Errors: SWU_ERR_UNSUPPORTED (backend cannot export), SWU_ERR_STATE, SWU_ERR_IO, SWU_ERR_BUSY.
 */
SWU_API swu_status swu_model_save_weights(swu_model* model, const char* path);

/* ------------------------------------------------------------------------------ */
/* Training and evaluation: the bundle's whole recipe                              */
/* ------------------------------------------------------------------------------ */

typedef enum swu_train_event_kind {
    SWU_TRAIN_EVENT_PREPARING = 0,   /* preprocessing (caching) case `iteration` of `total_iterations` */
    SWU_TRAIN_EVENT_ITERATION = 1,   /* one optimisation step done */
    SWU_TRAIN_EVENT_VALIDATION = 2,  /* a validation finished: mean_dice, organ_dice */
    SWU_TRAIN_EVENT_CHECKPOINT = 3,  /* a file was written: path */
    SWU_TRAIN_EVENT_FORCE_INT32 = 0x7fffffff
} swu_train_event_kind;

typedef struct swu_train_event {
    uint32_t struct_size;
    swu_train_event_kind kind;
    int64_t epoch;              /* 1-based */
    int64_t iteration;          /* 1-based over the whole run (resumes continue counting) */
    int64_t total_iterations;   /* planned for this run */
    double loss, dice_loss, ce_loss;  /* ITERATION */
    double learning_rate;
    double mean_dice;           /* VALIDATION: mean over organs and cases, background excluded */
    const double* organ_dice;   /* VALIDATION: organ_count values (classes 1..), NaN = absent everywhere */
    int32_t organ_count;
    double best_mean_dice;      /* best so far (-1 before the first validation) */
    int64_t best_epoch;         /* its epoch (0 before) */
    double elapsed_seconds;     /* since swu_train started */
    const char* path;           /* CHECKPOINT: the file written */
    int32_t rank;               /* of the process that reports (0 unless distributed) */
    int32_t world_size;         /* processes training together (1 unless distributed) */
} swu_train_event;

/** Called on the training thread; return non-zero to cancel. swu_train then returns
 *  SWU_ERR_CANCELLED; files already written (the best model.pt, the last resume
 *  checkpoint) stay intact. Distributed: called on every rank (show rank 0's); a cancel
 *  on any rank stops all of them after the current step. */
typedef int (*swu_train_fn)(const swu_train_event* event, void* user_data);

/**
 * What to train on and how. Defaults are the bundle's train.json: 500 epochs, batch 2,
 * 2 crops of 96^3 per volume, Adam lr 2e-4, validation every 5 epochs (sliding window
 * roi 96, sw_batch 2, overlap 0.25), seed 123. The device, threads and precision are the
 * model's; AMP is used when the model runs on CUDA (amp = -1, default).
 */
typedef struct swu_train_params {
    uint32_t struct_size;
    /* Data: a MONAI datalist JSON ({"training": [{"image": .., "label": ..}], "validation":
     * [..]}; relative paths are relative to the file's folder), or volumes in memory (the
     * caller keeps them alive during the call). Both may be given: the lists are joined. */
    const char* datalist;
    const swu_volume* const* train_images;
    const swu_volume* const* train_labels;
    size_t train_count;
    const swu_volume* const* val_images;
    const swu_volume* const* val_labels;
    size_t val_count;
    const char* output_dir;     /* required; created if missing: model.pt (best), resume.pt,
                                   resume.json, metrics.jsonl */
    int32_t max_epochs;         /* default 500 */
    int64_t max_iterations;     /* 0 (default): the epochs decide; else stop after this many steps */
    int32_t batch_size;         /* volumes per step, default 2 */
    int32_t num_samples;        /* crops per volume, default 2 (so 4 patches per step) */
    int32_t roi;                /* crop size per axis, a multiple of 32 of at least 64, default 96 */
    double learning_rate;       /* default 2e-4 */
    int32_t val_interval;       /* epochs between validations, default 5; 0 = never */
    double val_overlap;         /* default 0.25 */
    int32_t val_sw_batch;       /* default 2 */
    uint64_t seed;              /* default 123 */
    int32_t amp;                /* -1 (default): on CUDA; 0: off; 1: on (CUDA only) */
    int32_t checkpointing;      /* recompute Swin block activations in backward, default 1 */
    const char* initial_weights;/* model.pt to start from (fine-tuning); NULL: the model's
                                   weights, or fresh ones (swu_model_init_weights(seed)) */
    int32_t resume;             /* 1: continue from output_dir/resume.pt (weights, Adam, epoch) */
    int64_t cache_bytes;        /* preprocessed cases kept in memory, default 4 GiB; cases
                                   beyond it are re-read and preprocessed when drawn */
    swu_train_fn callback;      /* may be NULL */
    void* callback_user_data;
    swu_distributed distributed;/* SWU_DISTRIBUTED_ENV: one rank of a data-parallel run (see
                                   swu_distributed). Each epoch's shuffled case order is the same
                                   on every rank and split as torch's DistributedSampler does (padded
                                   by repeating cases so every rank has ceil(n / WORLD_SIZE); batch_size
                                   is per rank), validation cases are split across the ranks and
                                   their Dice sums added up; only rank 0 writes output_dir (for
                                   resume, every rank reads it: a shared folder). Default OFF */
    double distributed_timeout; /* seconds, as in swu_optimizer_params. Default 1800 */
} swu_train_params;

SWU_API swu_status swu_train_params_init(swu_train_params* params);
SWU_API swu_status swu_train_params_init_size(swu_train_params* params, uint32_t struct_size);
#define swu_train_params_init(params) swu_train_params_init_size((params), (uint32_t)sizeof *(params))

/** Summary of a finished (or cancelled) run. */
typedef struct swu_train_result {
    uint32_t struct_size;
    int64_t epochs;             /* epochs completed */
    int64_t iterations;         /* steps completed, over the whole run */
    double last_loss;
    double best_mean_dice;      /* -1 when never validated */
    int64_t best_epoch;
} swu_train_result;

/**
 * Trains the model with the bundle's recipe: cached deterministic preprocessing (image
 * bilinear, label nearest), RandCropByPosNegLabel (pos 1, neg 1, image_threshold 0),
 * RandFlip per axis (p 0.1), RandRotate90 (max_k 3, p 0.1), RandShiftIntensity (0.1, p
 * 0.5), prepared on a worker thread; DiceCELoss + Adam; validation Dice in the
 * preprocessed space. The best weights go to output_dir/model.pt (MONAI format); a
 * resume checkpoint after every epoch. Same seed, data, backend and thread count give
 * the same losses. `result` may be NULL. On return the model holds the last weights.
 * Speed on the CPU with glibc: each step frees and allocates the same large blocks, and
 * glibc hands blocks above its mmap threshold back to the system, so every step maps,
 * faults in and zeroes them again. A host that trains should keep them in its heap, as
 * `swinunetr train` does: mallopt(M_MMAP_THRESHOLD, 32 MiB), mallopt(M_TRIM_THRESHOLD,
 * INT_MAX), mallopt(M_TOP_PAD, 1 GiB), or the MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ /
 * MALLOC_TOP_PAD_ variables (6.5 s to 3.5 s a step on 2 cores). The library does not change a
 * host's allocator.
 * Errors: SWU_ERR_INVALID_ARGUMENT (params, datalist, label values >= out_channels,
 * shapes), SWU_ERR_IO, SWU_ERR_FORMAT, SWU_ERR_UNSUPPORTED (backend cannot train),
 * SWU_ERR_CANCELLED, SWU_ERR_BUSY, SWU_ERR_OUT_OF_MEMORY, SWU_ERR_BACKEND.
 */
SWU_API swu_status swu_train(swu_model* model, const swu_train_params* params, swu_train_result* result);

/** Name of a class of the bundle: 0 "background", 1 "spleen", 2 "right kidney", 3 "left
 *  kidney", 4 "gallbladder", 5 "esophagus", 6 "liver", 7 "stomach", 8 "aorta", 9 "inferior
 *  vena cava", 10 "portal and splenic veins", 11 "pancreas", 12 "right adrenal gland",
 *  13 "left adrenal gland"; NULL for any other value. Static storage. */
SWU_API const char* swu_label_name(int32_t label);

/** Recommended display colour (sRGB, 0..255) of a class: the colour the DICOM SEG (as
 *  CIELab) and RT Structure Set outputs carry and `segment --preview` draws, after 3D
 *  Slicer's generic anatomy colour table (both kidneys share one, as do both adrenal
 *  glands); 0, the background, is black. Errors: SWU_ERR_INVALID_ARGUMENT (NULL rgb, a
 *  label outside 0..13). */
SWU_API swu_status swu_label_color(int32_t label, uint8_t rgb[3]);

/**
 * Evaluates the model's current weights on every pair of a datalist ("validation" pairs,
 * or "training" when there are none; `section` names one explicitly, may be NULL):
 * segmentation with swu_infer (params may be NULL for defaults), Dice per organ per case
 * against the label file in the image's own geometry (an organ absent from the ground
 * truth is null and left out of means), and the mean. Writes a JSON report to
 * `report_path` (may be NULL) naming organs (spleen, right kidney, ...) and recording
 * the sliding window the cases were segmented with, from params: "sliding_window":
 * {"roi": int, "overlap": number, "sw_batch": int, "blend": "gaussian" or "constant"};
 * *mean_dice (may be NULL) receives the mean over cases and organs.
 * Errors: as swu_infer, plus SWU_ERR_IO / SWU_ERR_FORMAT for the datalist.
 */
SWU_API swu_status swu_evaluate(swu_model* model, const char* datalist, const char* section,
                                const swu_infer_params* params, const char* report_path, double* mean_dice);

/* ------------------------------------------------------------------------------ */
/* ABI layout (for language bindings)                                               */
/* ------------------------------------------------------------------------------ */

/**
 * One fact of the C ABI as this library was compiled: a binding that declares the
 * structs and enums above in its own language compares its view with these entries at
 * load time and refuses to run on any difference, so a binding written against an
 * older or newer header fails loudly instead of corrupting memory.
 * Names and meanings:
 *   "swu_model_params"          a struct or enum type:  value = size = sizeof (bytes)
 *   "swu_model_params.threads"  a struct field:          value = offsetof, size = sizeof the field
 *                                                         (arrays whole: "depths" is 16)
 *   "SWU_ERR_CANCELLED"         an enum value or macro:  value = the constant, size = 4
 * This struct's own layout is frozen for every ABI version.
 */
typedef struct swu_abi_entry {
    const char* name;
    int64_t value;
    int64_t size;
} swu_abi_entry;

/** The whole table: *entries receives a static array of *count entries (valid for the
 *  life of the process), every public type, field and constant of this header.
 *  Errors: SWU_ERR_INVALID_ARGUMENT (NULL). */
SWU_API swu_status swu_abi_layout(const swu_abi_entry** entries, size_t* count);

/** Looks one entry up by name (see swu_abi_entry); value and size may be NULL.
 *  Errors: SWU_ERR_INVALID_ARGUMENT (NULL name, or a name this library does not know:
 *  the message names it). */
SWU_API swu_status swu_abi_lookup(const char* name, int64_t* value, int64_t* size);

/* ------------------------------------------------------------------------------ */
/* DICOM: series in, Segmentation (SEG) or RT Structure Set out                     */
/* ------------------------------------------------------------------------------ */

/** What swu_volume_read_dicom read. Strings are NUL-terminated, copied into the struct. */
typedef struct swu_dicom_series_info {
    uint32_t struct_size;
    char series_uid[65];        /* SeriesInstanceUID of the series read (at most 64 characters) */
    char modality[17];          /* "CT" */
    int32_t slice_count;        /* slices in the volume */
    int32_t series_in_folder;   /* distinct series found among the folder's files */
} swu_dicom_series_info;

/**
 * Reads one DICOM series from a folder (its files, not its subfolders; files that are
 * not DICOM are ignored). `series_uid` names the series by its exact SeriesInstanceUID;
 * NULL or "" picks the CT series with the most slices. The choice is logged at
 * SWU_LOG_INFO and, when `info` is not NULL (struct_size set by the caller), returned.
 * Slices are sorted by ImagePositionPatient along the normal of ImageOrientationPatient;
 * the volume's origin is the first slice's position, its axes are the row direction,
 * the column direction and the normal (i, j, k), and voxels are in HU (rescale applied)
 * as float32. Whatever transfer syntax GDCM decodes is read (uncompressed, deflate,
 * RLE, JPEG lossless and lossy, JPEG-LS, JPEG 2000).
 * Refused, with a message saying what and where: a modality other than CT, multi-frame
 * images, slices differing in size or pixel spacing, duplicated slice positions,
 * missing slices, any other non-uniform slice spacing, and slices not stacked along
 * their normal (gantry tilt); such series must be resampled before. Images whose
 * orientation differs from the majority's (localizers) are skipped with a warning.
 * swu_volume_read on a folder does the same with series_uid = NULL.
 * On success *volume is owned by the caller (swu_volume_free).
 * Errors: SWU_ERR_INVALID_ARGUMENT (NULL, no series with that UID: the message lists
 * the folder's series), SWU_ERR_IO (not a folder), SWU_ERR_FORMAT (no DICOM series,
 * bad or inconsistent headers, duplicated or missing slices, undecodable pixel data),
 * SWU_ERR_UNSUPPORTED (not CT, irregular grid, a build without ITK).
 */
SWU_API swu_status swu_volume_read_dicom(const char* folder, const char* series_uid, swu_volume** volume,
                                         swu_dicom_series_info* info);

/** Options of a DICOM Segmentation. Strings are copied; NULL means the default. */
typedef struct swu_dicom_seg_params {
    uint32_t struct_size;
    const char* series_description;  /* default "swinunetr organ segmentation" */
    int32_t series_number;           /* default 0: the source's SeriesNumber + 1000 */
    const char* content_label;       /* ContentLabel (CS: A-Z, 0-9, _ and space, up to 16), default "ORGANS" */
    const char* content_description; /* default "13 abdominal organs (Swin UNETR, BTCV)" */
    const char* content_creator;     /* ContentCreatorName (DICOM person name), default "" */
} swu_dicom_seg_params;

/** Sets struct_size and the defaults above. Errors: NULL. */
SWU_API swu_status swu_dicom_seg_params_init(swu_dicom_seg_params* params);
SWU_API swu_status swu_dicom_seg_params_init_size(swu_dicom_seg_params* params, uint32_t struct_size);
#define swu_dicom_seg_params_init(params) swu_dicom_seg_params_init_size((params), (uint32_t)sizeof *(params))

/**
 * Writes a label map (classes 0..13 of the bundle, as swu_infer returns it, uint8 or
 * integral float32) as a binary DICOM Segmentation (SOP Class 1.2.840.10008.5.1.4.1.1.66.4)
 * to `out_path`, over the DICOM series it was computed from: `source_folder` and
 * `series_uid` select the series exactly as swu_volume_read_dicom does, and `labels`
 * must lie on that series' grid (the geometry swu_volume_read_dicom gives it, which
 * swu_infer keeps). The object:
 * - takes patient, study and frame of reference from the source and is a new series
 *   of that study (new SeriesInstanceUID and SOPInstanceUID);
 * - references every source slice (ReferencedSeriesSequence), and each frame its own
 *   source slice (DerivationImageSequence / SourceImageSequence); frames carry their
 *   source slice's ImagePositionPatient and share its orientation and pixel spacing;
 * - has one segment per organ present, in label order, coded in SNOMED CT: category
 *   123037004 "Anatomical Structure"; types spleen 78961009, kidney 64033007,
 *   gallbladder 28231008, esophagus 32849002, liver 10200004, stomach 69695003,
 *   aorta 15825003, inferior vena cava 64131007, portal and splenic veins 32764006
 *   ("Portal vein"), pancreas 15776009, adrenal gland 23451007, with laterality
 *   modifiers right 24028007 / left 7771000; a recommended display colour; segment
 *   algorithm type AUTOMATIC, name "swinunetr", version SWU_VERSION_STRING, family
 *   DCM 123110 "Artificial Intelligence";
 * - holds frames only for the slices a segment touches.
 * `params` may be NULL (defaults). The file appears only when complete: it is written
 * under a temporary name in the same folder and renamed; on failure nothing is left.
 * Errors: SWU_ERR_INVALID_ARGUMENT (NULL, params, labels not on the series' grid,
 * label values outside 0..13, no organ present: a SEG needs a segment), SWU_ERR_IO,
 * SWU_ERR_FORMAT, SWU_ERR_UNSUPPORTED (as swu_volume_read_dicom; a build without
 * DCMTK: SWU_WITH_DCMTK=OFF).
 */
SWU_API swu_status swu_volume_write_dicom_seg(const swu_volume* labels, const char* source_folder, const char* series_uid,
                                              const char* out_path, const swu_dicom_seg_params* params);

/**
 * Writes a label map (as swu_volume_write_dicom_seg takes it) as a DICOM RT Structure
 * Set (SOP Class 1.2.840.10008.5.1.4.1.1.481.3) to `out_path`, over the DICOM series it
 * was computed from (`source_folder` and `series_uid` as for swu_volume_write_dicom_seg),
 * for treatment planning systems and viewers that read contours. The object:
 * - takes patient and study from the source and is a new series of that study (new
 *   SeriesInstanceUID and SOPInstanceUID, Modality RTSTRUCT);
 * - references the source's Frame of Reference, and in it the study, the series and
 *   every slice (ReferencedFrameOfReferenceSequence / ContourImageSequence);
 * - has one ROI per organ present, in label order, ROI number = the label (1..13), ROI
 *   name as the SEG's segment label ("liver", "right kidney", ...), the SEG's display
 *   colour (ROIDisplayColor), generation algorithm AUTOMATIC, interpreted type ORGAN
 *   and the organ's SNOMED CT code with its laterality (RTROIIdentificationCodeSequence,
 *   the codes swu_volume_write_dicom_seg lists);
 * - holds, on each slice an organ touches, CLOSED_PLANAR contours that reference that
 *   slice and run along the borders of the organ's pixels (vertices on pixel corners,
 *   in patient coordinates, mm). A hole and an island are contours of their own, to be
 *   combined by the even-odd rule: filled that way at the pixel centres, the contours
 *   give back the label map exactly. Pixels touching only at a corner get separate
 *   contours, and no contour visits a point twice.
 * `params` may be NULL (defaults); its fields mean: series_description (default
 * "swinunetr organ contours"), series_number (default 0: the source's SeriesNumber +
 * 1001, next to a SEG's + 1000), content_label -> StructureSetLabel (default "ORGANS",
 * same rules as for the SEG), content_description -> StructureSetDescription,
 * content_creator -> the RT Series' OperatorsName.
 * The file appears only when complete (temporary name in the same folder, renamed); on
 * failure nothing is left. Errors as swu_volume_write_dicom_seg (no organ present:
 * SWU_ERR_INVALID_ARGUMENT; a source without StudyInstanceUID or FrameOfReferenceUID:
 * SWU_ERR_FORMAT).
 */
SWU_API swu_status swu_volume_write_dicom_rtstruct(const swu_volume* labels, const char* source_folder, const char* series_uid,
                                                   const char* out_path, const swu_dicom_seg_params* params);

/* ------------------------------------------------------------------------------ */
/* Limits and robustness                                                            */
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
