// The lowerings of dsv4 ops: the CPU reference loops, the kernel plan and its gpu.func, the
// emulator's host launch and the gpu.func run on the CPU, and the chips' e2m1 conversions.
#ifndef DSV4_CONVERSION_PASSES
#define DSV4_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def ConvertDsv4ToLoops : Pass<"convert-dsv4-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower every dsv4 op to scf/memref/arith/math loops (the CPU reference)";
  let description = [{
    Each op becomes loops over its work items on a copy of kv (`bufferization.to_buffer` /
    `to_tensor` bridge the tensor world; run `one-shot-bufferize` afterwards). The fused op
    and the unfused ops share the per-row code, so an f32 chain and its fusion produce the
    same bits. `quantize`, `paged_store` and `fused_store` share the FP8 rounding (written out
    in integer arithmetic: saturating, round to nearest even) and the slot bytes, so the
    unfused store chain and the fused store write the same cache bytes. Each op's item loop
    goes into a private function `dsv4_<op>[_<k>]` that the caller calls (ops that lower to the
    same code share one), so no function grows with the number of ops: upstream's later passes
    are superlinear in the size of one function.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect", "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"
  ];
}

def Dsv4PlanKernels : Pass<"dsv4-plan-kernels", "::mlir::ModuleOp"> {
  let summary = "Attach to each fused op the kernel plan (#dsv4.plan) convert-dsv4-to-gpu emits";
  let description = [{
    For every `dsv4.fused_epilogue` and `dsv4.fused_store` without a `dsv4.plan` attribute,
    derives its `#dsv4.plan` from its spec (`#dsv4.spec`: D, R, kv type, rotate, mode) and
    attaches it: the shape table in lib/Conversion/Dsv4ToGPU/KernelShape.cpp picks lanes per
    row (a power of two of at most 32: one subgroup on wave64 and warp32 machines alike),
    rows per workgroup and the butterfly schedule; each option overrides its part; the
    default rows-per-workgroup keeps the LDS within the smallest limit of the supported chips
    (D=4096 gets 3 rows). A kernel that does not rotate gets the schedule `none`. A plan
    already in the IR is kept (tests pin one, as IREE pins `lowering_config`); the dialect
    verifies every plan against its op's spec.

    Schedules for the butterfly stages whose partners sit in other lanes: `shuffle` reads the
    partner's values with `gpu.shuffle xor` (no LDS, no barrier); `grouped` moves as many
    not-yet-done index bits into registers per LDS exchange as a lane can hold while keeping
    16-byte runs, the fewest exchanges: D=512 with 32 lanes of 16 values needs 3 exchanges
    (5 barriers) instead of 5 (9 barriers); `per-stage` does one LDS exchange per cross-lane
    stage (the reference's shape, for comparison).
  }];
  let options = [
    Option<"lanesPerRow", "lanes-per-row", "int64_t", /*default=*/"0",
           "Threads per row, a power of two <= 32 (0: the shape table's)">,
    Option<"rowsPerWorkgroup", "rows-per-workgroup", "int64_t", /*default=*/"0",
           "Rows per workgroup (0: the shape table's 128-thread workgroup)">,
    Option<"schedule", "schedule", "std::string", /*default=*/"\"\"",
           "Butterfly exchange schedule: grouped | per-stage | shuffle (empty: the shape "
           "table's)">
  ];
  let dependentDialects = ["::mlir::dsv4::Dsv4Dialect"];
}

def ConvertDsv4ToGPU : Pass<"convert-dsv4-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Turn each function holding one planned dsv4.fused_epilogue or dsv4.fused_store "
                "into one gpu.func kernel";
  let description = [{
    A function whose body is `dsv4.fused_epilogue` of its arguments (the shape `dsv4-fuse`
    leaves) becomes a `gpu.func` kernel of the same name, alone in a `gpu.module` of that
    name (one code object per kernel), with
    the argument list of docs/ABI.md; so does one whose body is `dsv4.fused_store` of its six
    arguments (a store kernel: the same row computation, then the FP8 quantization, amax by
    maxNum xor shuffles over the row's lanes, and the paged-cache store with 64-bit byte
    offsets, by `arith.truncf` to the op's FP8 type, which each back end lowers to the chip's
    conversion; kv is not written). The kernel follows the op's `dsv4.plan` (run
    dsv4-plan-kernels first; this pass chooses nothing): each group of `lanes_per_row`
    threads owns one row and keeps it in f32 registers from the one 16-byte-wide load to the
    one store, and the Hadamard stages exchange by the plan's schedule. Every LDS exchange has
    a `gpu.barrier` between the write and the read, and LDS addresses are XOR-swizzled, the
    swizzle chosen per butterfly plan so that eight consecutive lanes never share a bank
    group in any layout. The module's `dsv4.kernels` records spec and plan for the manifest.

    The host function is removed (the runtime shim is the host side), unless the module
    calls it: it is then renamed `<name>.host`, keeps its body and names its kernel in
    `dsv4.launches`, for dsv4-host-launch.

    Refused with a located error: a fused op without a plan, a fused op outside a
    `func.func` directly in the top-level module (nested modules are never serialized), and a
    kernel name that is not `[A-Za-z_][A-Za-z0-9_]*` (PTX and AMDGPU symbols, and the output
    file name).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect", "::mlir::vector::VectorDialect"
  ];
}

def Dsv4HostLaunch : Pass<"dsv4-host-launch", "::mlir::ModuleOp"> {
  let summary = "Turn each kernel's `<name>.host` function into a launch of the kernel";
  let description = [{
    The test harness of the CPU emulation: every function that convert-dsv4-to-gpu kept for
    the module's callers (`dsv4.launches = @name::@name`) gets as its body a launch
    (`gpu.launch_func`) of that kernel on a copy of kv (a store kernel: of the cache), with
    the scalar parameters of docs/ABI.md from the tensors' shapes and ceil(items /
    rows_per_workgroup) workgroups, none for no items, as the runtime shim would launch it;
    convert-gpu-to-host then runs it on the CPU.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ConvertGPUToHost : Pass<"convert-gpu-to-host", "::mlir::ModuleOp"> {
  let summary = "Run each gpu.func kernel on the host: workgroup by workgroup, thread by thread "
                "between barriers, with LDS race checks";
  let description = [{
    Each kernel `gpu.func` of a `gpu.module` becomes a host `func.func` of the same name taking
    the kernel's parameters (global memrefs in the default memory space) and the grid size
    along x; each `gpu.launch_func` of it becomes a call, and the `gpu.module`s are erased. The
    kernel's own ops are cloned, never rewritten: its index arithmetic, swizzles and vector
    widths run as they are.

    The function loops over workgroups. The kernel's top-level block is cut at every
    `gpu.barrier`, `gpu.shuffle` and `gpu.subgroup_reduce`; each piece runs in a loop over the
    threads of the workgroup (`known_block_size`, one-dimensional). A value that one piece
    defines and a later one uses is kept per thread in a host buffer indexed by the thread id.
    `gpu.thread_id`, `block_id`, `block_dim`, `grid_dim`, `global_id`, `lane_id`,
    `subgroup_id`, `num_subgroups` and `subgroup_size` become loop values; the workgroup
    attributions become host buffers, filled with all-ones bits (NaN) when a workgroup starts.

    Subgroups hold `subgroup-size` lanes: 64 (AMD wave64) or 32 (an NVIDIA warp).
    `gpu.shuffle` follows the GPU dialect's definition: a lane at or above `width` gets
    `valid = false`, as does a source lane outside `[0, width)` or outside the subgroup, and
    then an unspecified value, emulated as all-ones bits (NaN) so that a kernel that uses it
    fails its numbers. `gpu.subgroup_reduce` (with `cluster(size, stride)`) combines the
    cluster's values in the order of the xor butterfly that the shuffle lowering uses.

    With `check-races`, a shadow of each workgroup-memory element records which thread last
    wrote it and which threads read it since the last barrier. A read of an element another
    thread wrote, or a write of an element another thread read or wrote, in the same barrier
    interval prints one line per access site, starting `RACE`, with the kernel, the access
    and its location.

    Barriers, shuffles and subgroup reductions must sit in the kernel's top-level block
    (uniform control flow); workgroup memory may only be accessed by `memref.load/store` and
    `vector.load/store`. Anything else is an error at the op.
  }];
  let options = [
    Option<"subgroupSize", "subgroup-size", "int64_t", /*default=*/"64",
           "Lanes per subgroup: 64 (AMD wave64) or 32 (NVIDIA warp)">,
    Option<"checkRaces", "check-races", "bool", /*default=*/"true",
           "Report conflicting workgroup-memory accesses within one barrier interval">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def Dsv4LowerE2m1 : Pass<"dsv4-lower-e2m1", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower f32 -> f4E2M1FN arith.scaling_truncf: the chip's scaled FP4 conversion "
                "(v_cvt_scalef32_pk_fp4_f32) or the rounding written out";
  let description = [{
    A store kernel of the MXFP4 indexer cache converts each run of its row with
    `arith.scaling_truncf` to `f4E2M1FN` (round to nearest even, saturate to +-6; the scale is
    one E8M0 exponent `e`, broadcast, and the values are divided by 2^(e - 127)) and takes the
    codes as bytes with `vector.bitcast` (element 2k in the low nibble of byte k). On a chip
    with a scaled FP4 conversion (gfx950), every pair of values becomes one
    `amdgpu.packed_scaled_trunc` into a 32-bit word of eight codes, whose f32 scale operand
    is 2^(e - 127): `v_cvt_scalef32_pk_fp4_f32` divides its inputs by the power of two in that
    operand's exponent bits, and puts its first input in the low nibble. Elsewhere (gfx942,
    sm_90: no FP4 instruction) the rounding is written out in integer arithmetic
    (dsv4/Conversion/CacheStore.h, what convert-gpu-to-host does on the CPU). Runs before
    convert-arith-to-amdgpu or convert-gpu-to-nvvm, in the back-end step only: the kernel
    itself stays vendor-neutral. A conversion of another shape is an error at its location.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"\"",
           "The chip compiled for: gfx950 converts by instruction, others write it out">
  ];
  let dependentDialects = ["::mlir::amdgpu::AMDGPUDialect", "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::vector::VectorDialect"];
}

#endif // DSV4_CONVERSION_PASSES
