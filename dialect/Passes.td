// Every dsv4 pass: the fusion, the two lowerings and the back-end steps.
#ifndef DSV4_PASSES
#define DSV4_PASSES

include "mlir/Pass/PassBase.td"

def Dsv4Fuse : Pass<"dsv4-fuse"> {
  let summary = "Fuse rms_norm -> rope (-> hadamard) chains into dsv4.fused_epilogue, and "
                "an epilogue's quantize -> paged_store into dsv4.fused_store";
  let description = [{
    Replaces each chain `rms_norm -> rope -> hadamard` (or `rms_norm -> rope`) over the same
    work items, whose items come from `decode_items`/`prefill_items` over the rope's freqs, by
    one `dsv4.fused_epilogue`. A chain is left alone when an intermediate has another user
    (the hadamard is then left out, or nothing fuses), the ops sit in different blocks, the
    ops name different work items, or the items do not come from an items op over the rope's
    own freqs (the fused op must know the position source). The fused op keeps intermediates
    in f32: for f32 kv it computes the same bits as the chain; for bf16/f16 kv it drops the
    chain's two intermediate roundings, which only makes it more accurate (SPEC.md).

    Then a `fused_epilogue` whose rows only `quantize` and `paged_store` read, stored over
    the items of the same handle, ratio and freqs, becomes one `dsv4.fused_store` carrying the
    layout, page size and FP8 type; the in-place kv write disappears with it. An epilogue
    whose rows have another reader stays.
  }];
  let dependentDialects = ["::mlir::dsv4::Dsv4Dialect"];
}

def ConvertDsv4ToLoops : Pass<"convert-dsv4-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower every dsv4 op to scf/memref/arith/math loops (the CPU reference)";
  let description = [{
    Each op becomes loops over its work items on a copy of kv (`bufferization.to_buffer` /
    `to_tensor` bridge the tensor world; run `one-shot-bufferize` afterwards). The fused op
    and the unfused ops share the per-row code, so an f32 chain and its fusion produce the
    same bits.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def ConvertDsv4ToGPU : Pass<"convert-dsv4-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Turn each function holding one dsv4.fused_epilogue into one gpu.func kernel";
  let description = [{
    A function whose body is `dsv4.fused_epilogue` of its arguments (the shape `dsv4-fuse`
    leaves) becomes a `gpu.func` kernel of the same name, alone in a `gpu.module` of that
    name (one code object per kernel), with
    the argument list of docs/ABI.md; the host function is removed (the runtime shim is the
    host side). Each group of `lanes-per-row` threads owns one row and keeps it in f32
    registers from the one 16-byte-wide load to the one store; butterfly stages whose partners
    sit in other lanes exchange through workgroup memory with a `gpu.barrier` between the
    write and the read of every exchange.

    Schedules: `grouped` (default) moves as many not-yet-done index bits into registers per
    exchange as a lane can hold while keeping 16-byte runs, the fewest exchanges: D=512 with
    32 lanes of 16 values needs 3 exchanges (5 barriers) instead of 5 (9 barriers);
    `per-stage` does one exchange per cross-lane stage (the reference's shape, for
    comparison). LDS addresses are XOR-swizzled, the swizzle chosen per plan so that eight
    consecutive lanes never share a bank group in any layout. The kernel uses no
    subgroup-size-specific operation beyond shuffles inside `lanes-per-row` (<= 32) lanes, so
    the same kernel runs on wave64 and warp32 machines.

    Refused with a located error: a fused op outside a `func.func` directly in the top-level
    module (nested modules are never serialized), and a kernel name that is not
    `[A-Za-z_][A-Za-z0-9_]*` (PTX and AMDGPU symbols, and the output file name). The
    default rows-per-workgroup keeps the LDS within the smallest limit of the supported
    chips (D=4096 gets 3 rows).
  }];
  let options = [
    Option<"lanesPerRow", "lanes-per-row", "int64_t", /*default=*/"0",
           "Threads per row (0: four 16-byte runs per lane, at most 32 lanes)">,
    Option<"rowsPerWorkgroup", "rows-per-workgroup", "int64_t", /*default=*/"0",
           "Rows per workgroup (0: 128 / lanes-per-row, two wave64s: keeps s_barrier real)">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"grouped\"",
           "Butterfly exchange schedule: grouped | per-stage">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def Dsv4AttachTarget : Pass<"dsv4-attach-target", "::mlir::ModuleOp"> {
  let summary = "Check a chip name and attach the ROCDL or NVVM target it implies";
  let description = [{
    `gfx942`/`gfx950` attach `#rocdl.target` (wave64, HSA code object) and check that the
    linker `ld.lld` exists under `toolkit/llvm/bin`; `sm_90` attaches `#nvvm.target` for the
    PTX twin. Any other chip is an error naming the chips dsv4 supports (lib/Target/Toolkit.cpp
    lists them); chip and linker are checked when the pass manager initializes, before any
    pass runs. A kernel declaring more workgroup memory than the chip allows (48 KiB of
    static shared memory on sm_90) is an error at the kernel's location.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"gfx942\"", "Target chip">,
    Option<"toolkit", "toolkit", "std::string", /*default=*/"\"\"",
           "Folder holding llvm/bin/ld.lld (default: DSV4_TOOLKIT or the build's toolkit/)">
  ];
  let dependentDialects = ["::mlir::ROCDL::ROCDLDialect", "::mlir::NVVM::NVVMDialect"];
}

def Dsv4NvvmSqrt : Pass<"dsv4-nvvm-sqrt", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Replace libdevice's __nv_sqrtf calls by llvm.intr.sqrt (sqrt.rn.f32)";
  let description = [{
    convert-gpu-to-nvvm turns `math.sqrt` into a call to libdevice's `__nv_sqrtf`, which PTX
    cannot resolve without linking libdevice (a CUDA toolkit file dsv4 does not need
    otherwise). The intrinsic lowers to the same correctly rounded `sqrt.rn.f32`. Runs after
    convert-gpu-to-nvvm, in the NVIDIA back-end step only: the kernel itself stays
    vendor-neutral (ROCDL lowers `math.sqrt` to the intrinsic directly).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def Dsv4WriteCodeObjects : Pass<"dsv4-write-code-objects", "::mlir::ModuleOp"> {
  let summary = "Write each gpu.binary object to a file with its JSON manifest";
  let description = [{
    For every object of every `gpu.binary`, writes `<kernel>.<chip>.hsaco` (or `.ptx`) and
    `<kernel>.<chip>.json` (docs/ABI.md) into `output-dir`, taking the kernel's configuration
    from the module's `dsv4.kernels` attribute that `convert-dsv4-to-gpu` recorded. The
    folder is created when the pass manager initializes (a bad one fails before any
    lowering); an empty object is an error; each file written is reported as a remark.
  }];
  let options = [
    Option<"outputDir", "output-dir", "std::string", /*default=*/"\"out\"",
           "Folder the code objects and manifests are written to">
  ];
}

#endif // DSV4_PASSES
