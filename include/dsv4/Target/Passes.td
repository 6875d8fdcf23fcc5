// The back-end steps from a gpu.module to code objects on disk: the chip's target, the
// NVVM rewrites, the embedded manifest, the HSACO link and the writer.
#ifndef DSV4_TARGET_PASSES
#define DSV4_TARGET_PASSES

include "mlir/Pass/PassBase.td"

def Dsv4AttachTarget : Pass<"dsv4-attach-target", "::mlir::ModuleOp"> {
  let summary = "Check a chip name and attach the ROCDL or NVVM target it implies";
  let description = [{
    `gfx942`/`gfx950` attach `#rocdl.target` (wave64, HSA code object); `sm_90` attaches
    `#nvvm.target` for the PTX twin. Any other chip is an error naming the chips dsv4 supports
    (lib/Target/Toolkit.cpp lists them), and so is a missing one (no chip is a default: the
    wrong one would load nowhere); the chip is checked when the pass manager
    initializes, before any pass runs. A kernel declaring more workgroup memory than the chip allows (48 KiB of
    static shared memory on sm_90) is an error at the kernel's location.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"\"",
           "Target chip: gfx942 | gfx950 | sm_90 (required)">
  ];
  let dependentDialects = ["::mlir::ROCDL::ROCDLDialect", "::mlir::NVVM::NVVMDialect"];
}

def Dsv4NvvmSqrt : Pass<"dsv4-nvvm-sqrt", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Replace libdevice's __nv_sqrtf, __nv_fabsf, __nv_fmaxf, __nv_fminf, "
                "__nv_rintf and __nv_expf calls by llvm.intr.sqrt (sqrt.rn.f32), fabs, maxnum, "
                "minnum, roundeven and exp2";
  let description = [{
    convert-gpu-to-nvvm turns `math.sqrt`, `math.absf`, `arith.maxnumf`, `arith.minnumf`,
    `math.roundeven` and `math.exp` into calls to libdevice's `__nv_sqrtf`, `__nv_fabsf`,
    `__nv_fmaxf`, `__nv_fminf`, `__nv_rintf` and `__nv_expf`, which PTX cannot resolve without linking libdevice (a CUDA
    toolkit file dsv4 does not need otherwise; gpu-module-to-binary links it only where
    $CUDA_HOME names one). The intrinsics lower to the same correctly rounded `sqrt.rn.f32`,
    the exact `abs.f32`, IEEE maxNum and minNum `max.f32`/`min.f32` and `cvt.rni.f32.f32`
    (the written-out e2m1 rounding's); exp(x) becomes `llvm.exp2` (`ex2.approx`) of x * log2(e),
    as AMDGPU expands it for `v_exp_f32` (the compress step's softmax weights). Runs after
    convert-gpu-to-nvvm, in the NVIDIA back-end step only: the kernel itself stays
    vendor-neutral (ROCDL lowers `math.sqrt` to the intrinsic directly).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def Dsv4EmbedManifest : Pass<"dsv4-embed-manifest", "::mlir::ModuleOp"> {
  let summary = "Put each dsv4 kernel's manifest into its gpu.module as a constant global";
  let description = [{
    For every `gpu.module` whose kernel `convert-dsv4-to-gpu` recorded in `dsv4.kernels`,
    adds `llvm.mlir.global external constant @dsv4_manifest("{...}\00") {addr_space = 1}`:
    the JSON manifest of docs/ABI.md, NUL-terminated, which the runtime reads from the loaded
    code object through `hipModuleGetGlobal` / `cuModuleGetGlobal`; and beside it
    `@dsv4_manifest_digest`, the 8-byte digest of that text (include/dsv4/ABI/ManifestDigest.h),
    without which the runtime refuses the object. The manifest gains the
    kernel's static workgroup memory (`lds_bytes`), also recorded in `dsv4.kernels` so that
    dsv4-write-code-objects' side JSON carries the same facts. Runs after dsv4-attach-target
    (the manifest names the target's triple and chip) and before lowering to ROCDL/NVVM.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def Dsv4LinkHsaco : Pass<"dsv4-link-hsaco", "::mlir::ModuleOp"> {
  let summary = "Assemble and link each AMDGPU assembly object into an HSACO, with a time limit";
  let description = [{
    Replaces every `#rocdl.target` object in assembly form (what `gpu-module-to-binary` writes
    with `format=isa`) by the HSA code object that `format=bin` would give: upstream's
    `ROCDL::assembleIsa`, then `ld.lld -shared` from `toolkit/llvm/bin`. Upstream runs that
    linker with no time limit, so a hanging linker would hang the compiler; here it is killed
    after `timeout` seconds, with one error naming the linker and the limit. A missing linker
    is an error when the pass manager initializes, before any pass runs; a linker that fails
    is an error with its exit code and what it printed.
  }];
  let options = [
    Option<"toolkit", "toolkit", "std::string", /*default=*/"\"\"",
           "Folder holding llvm/bin/ld.lld (default: DSV4_TOOLKIT, the installed or the "
           "build's toolkit/)">,
    Option<"timeout", "timeout", "unsigned", /*default=*/"60",
           "Seconds the linker may run before it is killed">
  ];
}

def Dsv4NvvmFp8 : Pass<"dsv4-nvvm-fp8", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Turn f32 -> f8E4M3FN arith.truncf into nvvm.convert.f32x2.to.f8x2 pairs "
                "(cvt.rn.satfinite.e4m3x2.f32)";
  let description = [{
    convert-gpu-to-nvvm has no lowering of `arith.truncf` to an FP8 type. Each pair of values
    (a scalar is paired with 0) becomes one `nvvm.convert.f32x2.to.f8x2` that rounds to
    nearest even and saturates to +-448, keeping NaN (SPEC.md's FP8 conversion), and the
    bytes are reassembled as the truncf's FP8 vector. Runs before convert-gpu-to-nvvm, in the
    NVIDIA back-end step only: the kernel itself stays vendor-neutral (convert-arith-to-amdgpu
    does the same on AMD with v_cvt_pk_fp8_f32). A truncf to another FP8 type is refused.
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect", "::mlir::vector::VectorDialect"];
}

def Dsv4WriteCodeObjects : Pass<"dsv4-write-code-objects", "::mlir::ModuleOp"> {
  let summary = "Write each gpu.binary object to a file with its JSON manifest";
  let description = [{
    For every object of every `gpu.binary`, writes `<kernel>.<chip>.hsaco` (or `.ptx`) and
    `<kernel>.<chip>.json` (docs/ABI.md) into `output-dir`: the manifest dsv4-embed-manifest
    put into the object, plus `binary` and, for an HSACO, the `resources` of its metadata
    note. The runtime reads the embedded copy; the side JSON is for tools. The kernel's
    configuration comes from the module's `dsv4.kernels` attribute (convert-dsv4-to-gpu,
    dsv4-embed-manifest). An HSACO that needs scratch or spills is refused. The
    folder has no default (a default inside the source tree would overwrite the kernel
    library there); it is created when the pass manager initializes (a missing or bad one
    fails before any lowering). A binary whose name is not a valid kernel name (one that
    would leave the folder, such as `../x`) and an empty object are errors; a file that
    cannot be written completely (a full disk, RLIMIT_FSIZE) is an error and is removed;
    each file written is reported as a remark.
  }];
  let options = [
    Option<"outputDir", "output-dir", "std::string", /*default=*/"\"\"",
           "Folder the code objects and manifests are written to (required)">
  ];
}

#endif // DSV4_TARGET_PASSES
