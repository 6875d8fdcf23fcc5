/* dsv4_runtime.h - load a dsv4 code object and launch the fused kernel.
 *
 * Plain C (usable from C++ and ctypes); no LLVM, MLIR, HIP or CUDA types. The
 * GPU runtime (libamdhip64.so or libcuda.so.1) is opened with dlopen on first
 * use, so this library builds and loads on machines with neither SDK.
 * docs/ABI.md is the contract this follows. */
#ifndef DSV4_RUNTIME_DSV4_RUNTIME_H
#define DSV4_RUNTIME_DSV4_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DSV4_API __attribute__((visibility("default")))
#else
#define DSV4_API
#endif

/* Every entry point returns one of these and never aborts; on failure
 * dsv4_last_error() holds a message naming the thing that failed. */
typedef enum dsv4_status {
  DSV4_OK = 0,
  DSV4_ERR_INVALID_ARGUMENT = 1,   /* null pointer, negative or > INT32_MAX value */
  DSV4_ERR_RUNTIME_UNAVAILABLE = 2, /* libamdhip64 / libcuda missing or lacks a symbol */
  DSV4_ERR_LOAD_FAILED = 3,        /* not an ELF / bad PTX / the driver refused it */
  DSV4_ERR_ARCH_MISMATCH = 4,      /* device chip != manifest chip */
  DSV4_ERR_KERNEL_NOT_FOUND = 5,   /* manifest kernel absent from the code object */
  DSV4_ERR_MISMATCH = 6,           /* a fact of the call (dtype, head_dim, rope_dim, eps, mode,
                                      ratio, rotate, scale, layout, page_size) differs from the
                                      kernel's, or the manifest disagrees with the code object */
  DSV4_ERR_MISALIGNED = 7,         /* base pointer or row stride breaks 16-byte access */
  DSV4_ERR_LAUNCH_FAILED = 8,      /* the driver's launch call failed */
  DSV4_ERR_IO = 9,                 /* a file could not be read */
  DSV4_ERR_BAD_MANIFEST = 10,      /* no embedded manifest or digest, a manifest that does not
                                      match its digest, bad JSON, missing or ill-typed key */
  DSV4_ERR_OUT_OF_MEMORY = 11      /* a host allocation failed */
} dsv4_status;

/* Element types; 0 is deliberately invalid so a zeroed struct is rejected. */
typedef enum dsv4_dtype {
  DSV4_DTYPE_F32 = 1,
  DSV4_DTYPE_BF16 = 2,
  DSV4_DTYPE_F16 = 3,
  DSV4_DTYPE_I32 = 4, /* out_loc's slots: a store kernel's manifest says which */
  DSV4_DTYPE_I64 = 5
} dsv4_dtype;

/* What `handle` points at; must match the manifest's `mode`. */
typedef enum dsv4_handle_kind {
  DSV4_HANDLE_DECODE_SEQ_LENS = 1,  /* i32 seq_lens[num_items] */
  DSV4_HANDLE_PREFILL_PLAN = 2,     /* i32 plan, num_items rows of 4 used fields */
  DSV4_HANDLE_COMPRESS_TOKENS = 3,  /* a compress kernel's items: i32 token_req and i64
                                       positions per token, a block table into the state */
  DSV4_HANDLE_SGLANG_DECODE_PLAN = 4, /* sglang's DecodePlan[num_items] (16 bytes each) */
  DSV4_HANDLE_SGLANG_EXTEND_PLAN = 5  /* sglang's CompressPlan[num_items]; out_loc is indexed
                                         by each plan's ragged_id */
} dsv4_handle_kind;

/* What a kernel does with the finished row (the manifest's `layout`); 0 is
 * invalid so a zeroed struct is rejected. */
typedef enum dsv4_layout {
  DSV4_LAYOUT_IN_PLACE = 1, /* updates kv in place: no layout in the manifest */
  DSV4_LAYOUT_INDEXER = 2,  /* stores FP8 into the indexer's paged cache */
  DSV4_LAYOUT_MAIN = 3,     /* stores FP8 into the main paged cache */
  DSV4_LAYOUT_INDEXER_MXFP4 = 4 /* stores MXFP4 (e2m1 + ue8m0) into the indexer's paged cache */
} dsv4_layout;

/* One call's arguments, in the framework's terms. First the kernel's own
 * arguments, one field per entry of dsv4/ABI/KernelArgs.def with the same
 * name: buffers as pointers, scalars as int64_t so that values past INT32_MAX
 * are reported instead of silently truncated (strides are in elements). The
 * store kernel's (out_loc: i64 [num_items], cache: bytes, cache_bytes) must be
 * NULL/0 for an in-place kernel. Then, one field per entry of
 * dsv4/ABI/LaunchFacts.def, what the call says about its tensors and the
 * configuration it relies on (dtypes, sizes, mode, eps, ratio, rotate, scale,
 * layout, page size), each checked against the manifest. Enum fields are
 * int32_t for a fixed ctypes layout. */
#define DSV4_LAUNCH_FIELD_ptr void *
#define DSV4_LAUNCH_FIELD_i32 int64_t
#define DSV4_LAUNCH_FIELD_i64 int64_t
typedef struct dsv4_launch_args {
#define DSV4_KERNEL_ARG(Name, name, kind) DSV4_LAUNCH_FIELD_##kind name;
#define DSV4_STORE_KERNEL_ARG(Name, name, kind) DSV4_LAUNCH_FIELD_##kind name;
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) type name;
#include "dsv4/ABI/LaunchFacts.def"
} dsv4_launch_args;

/* One call of a compress kernel (the manifest's mode "compress", SPEC.md "The compress step in
 * front"): first its own kernel arguments, one field per DSV4_COMPRESS_KERNEL_ARG of
 * KernelArgs.def with the same name (strides in elements, scalars as int64_t as above); then
 * the facts every call states and a compress call's own (LaunchFacts.def: state_dtype,
 * overlap, state_block_size, state_width), each checked against the manifest. */
typedef struct dsv4_compress_launch_args {
#define DSV4_KERNEL_ARG(Name, name, kind)
#define DSV4_COMPRESS_KERNEL_ARG(Name, name, kind) DSV4_LAUNCH_FIELD_##kind name;
#include "dsv4/ABI/KernelArgs.def"
#define DSV4_LAUNCH_FACT(type, name) type name;
#define DSV4_KV_LAUNCH_FACT(type, name)
#define DSV4_COMPRESS_LAUNCH_FACT(type, name) type name;
#include "dsv4/ABI/LaunchFacts.def"
} dsv4_compress_launch_args;

typedef struct dsv4_module dsv4_module;

/* Loads `binary_path` (an HSACO or PTX file, told apart by its first bytes)
 * and reads the manifest embedded in it (the global `dsv4_manifest`), which
 * must match its digest (the global `dsv4_manifest_digest`); every fact the
 * device and driver can confirm (chip, kernel name, workgroup size, LDS bytes)
 * is checked against it. The side .json is for tools only. */
DSV4_API dsv4_status dsv4_module_load_file(const char *binary_path, dsv4_module **out);
/* As above from memory; the image is copied, the caller keeps ownership. */
DSV4_API dsv4_status dsv4_module_load_data(const void *image, size_t size,
                                           dsv4_module **out);
DSV4_API void dsv4_module_unload(dsv4_module *mod);

/* Validates `args` against the manifest, then enqueues one launch on
 * `stream` (hipStream_t / CUstream; NULL = the default stream). A compress
 * kernel is refused: it takes dsv4_launch_compress. */
DSV4_API dsv4_status dsv4_launch(dsv4_module *mod, const dsv4_launch_args *args,
                                 void *stream);
/* The same for a compress kernel, which reads the paged state cache; every other kernel is
 * refused. */
DSV4_API dsv4_status dsv4_launch_compress(dsv4_module *mod,
                                          const dsv4_compress_launch_args *args, void *stream);

/* The calling thread's message for its last failure ("" if none). */
DSV4_API const char *dsv4_last_error(void);
/* "DSV4_OK", "DSV4_ERR_MISMATCH", ...; "DSV4_ERR_?" for unknown values. */
DSV4_API const char *dsv4_status_name(dsv4_status status);

/* Manifest facts. Strings live as long as the module. */
DSV4_API const char *dsv4_module_kernel_name(const dsv4_module *mod);
DSV4_API const char *dsv4_module_target(const dsv4_module *mod);
DSV4_API const char *dsv4_module_chip(const dsv4_module *mod);
/* The manifest's mode (Handle.def's: "decode", "prefill", "compress", "sglang_decode", ...). */
DSV4_API const char *dsv4_module_mode(const dsv4_module *mod);
DSV4_API int32_t dsv4_module_handle_kind(const dsv4_module *mod);
DSV4_API int dsv4_module_rotate(const dsv4_module *mod);
DSV4_API int64_t dsv4_module_head_dim(const dsv4_module *mod);
DSV4_API int64_t dsv4_module_rope_dim(const dsv4_module *mod);
DSV4_API int32_t dsv4_module_kv_dtype(const dsv4_module *mod);
DSV4_API int32_t dsv4_module_weight_dtype(const dsv4_module *mod);
DSV4_API int64_t dsv4_module_workgroup_size(const dsv4_module *mod);
DSV4_API int64_t dsv4_module_rows_per_workgroup(const dsv4_module *mod);
/* A store kernel's tokens per cache page; 0 for a kernel that updates kv in place. */
DSV4_API int64_t dsv4_module_page_size(const dsv4_module *mod);
DSV4_API float dsv4_module_eps(const dsv4_module *mod);
DSV4_API int64_t dsv4_module_ratio(const dsv4_module *mod);
/* The rotation's scale rounded to float (the manifest's, also when the kernel does not rotate). */
DSV4_API float dsv4_module_scale(const dsv4_module *mod);
DSV4_API int32_t dsv4_module_layout(const dsv4_module *mod); /* dsv4_layout */
/* A store kernel's out_loc slots, DSV4_DTYPE_I64 or DSV4_DTYPE_I32; 0 for an in-place kernel. */
DSV4_API int32_t dsv4_module_out_loc_dtype(const dsv4_module *mod);
/* A compress kernel's: whether its windows overlap, and its state cache's rows per block (0 for
 * any other kernel). */
DSV4_API int dsv4_module_overlap(const dsv4_module *mod);
DSV4_API int64_t dsv4_module_state_block_size(const dsv4_module *mod);

#ifdef __cplusplus
}
#endif

#endif /* DSV4_RUNTIME_DSV4_RUNTIME_H */
