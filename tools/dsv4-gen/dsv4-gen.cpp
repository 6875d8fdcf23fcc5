// dsv4-gen: writes the dsv4 IR of one kernel configuration (the input of dsv4-opt --dsv4-compile).
#include "ToolSetup.h"
#include "dsv4/Dialect/Dsv4/IR/CacheLayout.h"
#include "dsv4/Dialect/Dsv4/IR/Dsv4.h"
#include "dsv4/Generator/BuildKernel.h"
#include "dsv4/Target/Chips.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory category("kernel configuration");
static cl::opt<std::string> mode("mode",
                                 cl::desc("decode | prefill | compress (pools its rows from a "
                                          "paged state cache; needs --layout) | "
                                          "sglang_decode | sglang_extend (sglang's plans)"),
                                 cl::init("decode"), cl::cat(category));
static cl::opt<int64_t> headDim("head-dim", cl::desc("D"), cl::init(512), cl::cat(category));
static cl::opt<int64_t> ropeDim("rope-dim", cl::desc("R"), cl::init(64), cl::cat(category));
static cl::opt<std::string> kvDtype("kv-dtype", cl::desc("f32 | bf16 | f16"), cl::init("f32"),
                                    cl::cat(category));
static cl::opt<std::string> weightDtype("weight-dtype", cl::desc("f32 | bf16"),
                                        cl::init("f32"), cl::cat(category));
static cl::opt<float> eps("eps", cl::desc("RMSNorm epsilon"), cl::init(mlir::dsv4::kDefaultEps),
                          cl::cat(category));
static cl::opt<int64_t> ratio("ratio", cl::desc("compress ratio"), cl::init(4),
                              cl::cat(category));
static cl::opt<bool> rotate("rotate", cl::desc("Hadamard after RoPE (--rotate=false: none)"),
                            cl::init(true), cl::cat(category));
static cl::opt<float> scale("scale", cl::desc("Hadamard scale (default D^-0.5)"),
                            cl::cat(category));
static cl::opt<std::string> layout("layout",
                                   cl::desc("indexer | main | indexer_mxfp4: a store kernel into "
                                            "that paged cache layout (default: the in-place "
                                            "kernel)"),
                                   cl::cat(category));
static cl::opt<int64_t> pageSize("page-size", cl::desc("tokens per cache page (store kernels)"),
                                 cl::init(64), cl::cat(category));
static cl::opt<std::string> fp8("fp8", cl::desc("fn | fnuz: the FP8 type (store kernels)"),
                                cl::cat(category));
static cl::opt<std::string> outLocDtype("out-loc-dtype",
                                        cl::desc("i64 | i32: the type of out_loc's slots (store "
                                                 "kernels; default i64)"),
                                        cl::init("i64"), cl::cat(category));
static cl::opt<std::string> chip("chip",
                                 cl::desc("the FP8 type of this chip (gfx942: fnuz; gfx950, "
                                          "sm_90: fn), in place of --fp8 (indexer_mxfp4 has "
                                          "none: one kernel for every chip)"),
                                 cl::cat(category));
static cl::opt<std::string> name("name", cl::desc("kernel name (default: from the configuration)"),
                                 cl::cat(category));
static cl::opt<bool> printName("print-name",
                               cl::desc("print only the kernel name the configuration gets"),
                               cl::cat(category));
static cl::opt<int64_t> stateBlockSize("state-block-size",
                                       cl::desc("rows per state cache block (compress kernels)"),
                                       cl::cat(category));
static cl::opt<bool> overlap("overlap",
                             cl::desc("overlapping windows: each state row holds 4D floats "
                                      "(compress kernels; default: ratio == 4, as DeepSeek-V4)"),
                             cl::cat(category));
static cl::opt<std::string> output("o", cl::desc("output file"), cl::value_desc("filename"),
                                   cl::init("-"));

/// One error line; returns failure.
static mlir::LogicalResult fail(const Twine &message) {
  WithColor::error(errs(), "dsv4-gen") << message << "\n";
  return mlir::failure();
}

/// The element type a dtype option names, or failure with the error printed.
static mlir::FailureOr<mlir::Type> parseDtype(mlir::MLIRContext &context, StringRef what,
                                              StringRef dtype, bool allowF16) {
  mlir::Builder b(&context);
  if (dtype == "f32")
    return b.getF32Type();
  if (dtype == "bf16")
    return b.getBF16Type();
  if (dtype == "f16" && allowF16)
    return b.getF16Type();
  (void)fail(what + " dtype '" + dtype + "' is not " + (allowF16 ? "f32, bf16 or f16" : "f32 or bf16"));
  return mlir::failure();
}

/// "indexer, main or indexer_mxfp4": every layout, for messages.
static std::string layoutNames() {
  std::string names;
  uint32_t last = mlir::dsv4::getMaxEnumValForCacheLayout();
  for (uint32_t value = 0; value <= last; ++value) {
    if (value)
      names += value == last ? " or " : ", ";
    names += mlir::dsv4::stringifyCacheLayout(*mlir::dsv4::symbolizeCacheLayout(value)).str();
  }
  return names;
}

/// The store options: the layout, and the FP8 type of an FP8 layout from --fp8 or --chip;
/// a bad or contradictory one is one error line.
struct StoreOptions {
  std::optional<mlir::dsv4::CacheLayout> layout;
  std::optional<int64_t> pageSize;
  mlir::Type fp8Type;
};

static mlir::FailureOr<StoreOptions> readStoreOptions(mlir::MLIRContext &context) {
  StoreOptions store;
  bool storeOption = pageSize.getNumOccurrences() || !fp8.empty() || !chip.empty();
  if (layout.empty()) {
    if (storeOption)
      return fail("--page-size, --fp8 and --chip need --layout");
    return store;
  }
  store.layout = mlir::dsv4::symbolizeCacheLayout(layout);
  if (!store.layout)
    return fail("layout '" + layout + "' is not " + layoutNames());
  store.pageSize = pageSize.getValue();
  if (!fp8.empty() && !chip.empty())
    return fail("give --fp8 or --chip, not both");
  bool fp8Layout =
      mlir::dsv4::getCacheGeometry(*store.layout).codes == mlir::dsv4::CodeFormat::fp8;
  bool fnuz = false;
  if (!chip.empty()) {
    if (std::string problem = mlir::dsv4::chipProblem(chip); !problem.empty())
      return fail(problem);
    fnuz = mlir::dsv4::lookupChip(chip)->fnuzFp8;
  } else if (!fp8.empty()) {
    if (!fp8Layout)
      return fail("--fp8 does not apply to the " + layout + " layout: it quantizes to f4E2M1FN");
    if (fp8 != "fn" && fp8 != "fnuz")
      return fail("fp8 '" + fp8 + "' is not fn or fnuz");
    fnuz = fp8 == "fnuz";
  }
  // indexer_mxfp4 quantizes to e2m1 on every chip: no FP8 type.
  if (fp8Layout)
    store.fp8Type = fnuz ? mlir::Type(mlir::Float8E4M3FNUZType::get(&context))
                         : mlir::Type(mlir::Float8E4M3FNType::get(&context));
  return store;
}

/// The spec the options ask for, checked by #dsv4.spec's verifier (the dialect's limits, the
/// ones the ops verify); a bad one is one error line.
static mlir::FailureOr<mlir::dsv4::KernelSpecAttr> readSpec(mlir::MLIRContext &context) {
  std::optional<mlir::dsv4::PositionSource> source = mlir::dsv4::symbolizePositionSource(mode);
  if (!source)
    return fail("mode '" + mode + "' is not decode, prefill, compress, sglang_decode or "
                "sglang_extend");
  bool compress = *source == mlir::dsv4::PositionSource::compress;
  if (!compress && (stateBlockSize.getNumOccurrences() || overlap.getNumOccurrences()))
    return fail("--state-block-size and --overlap need --mode=compress");
  if (compress && !stateBlockSize.getNumOccurrences())
    return fail("--mode=compress needs --state-block-size");
  mlir::FailureOr<mlir::Type> kvType = parseDtype(context, "kv", kvDtype, /*allowF16=*/true);
  if (failed(kvType))
    return mlir::failure();
  mlir::FailureOr<mlir::Type> weightType =
      parseDtype(context, "weight", weightDtype, /*allowF16=*/false);
  if (failed(weightType))
    return mlir::failure();
  if (scale.getNumOccurrences() && !rotate)
    return fail("a scale is given but rotate is off (the scale multiplies the Hadamard output)");
  mlir::FailureOr<StoreOptions> store = readStoreOptions(context);
  if (failed(store))
    return mlir::failure();
  mlir::Builder b(&context);
  if (outLocDtype != "i64" && outLocDtype != "i32")
    return fail("out_loc dtype '" + outLocDtype + "' is not i64 or i32");
  // i64, the default, is spelled by the spec's absent out_loc_type.
  mlir::Type outLocType = outLocDtype == "i32" ? b.getI32Type() : mlir::Type();
  mlir::FloatAttr scaleAttr;
  if (rotate)
    scaleAttr = b.getF32FloatAttr(scale.getNumOccurrences() ? scale.getValue()
                                                            : mlir::dsv4::defaultScale(headDim));
  // The verifier's message goes to stderr as one error line: no location to print.
  std::string problem;
  auto emitError = [&]() { return mlir::emitError(b.getUnknownLoc()); };
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diagnostic) {
    problem = diagnostic.str();
    return mlir::success();
  });
  mlir::dsv4::KernelSpecAttr spec = mlir::dsv4::KernelSpecAttr::getChecked(
      emitError, &context, *source, headDim.getValue(), ropeDim.getValue(), *kvType, *weightType,
      ratio.getValue(),
      b.getF32FloatAttr(eps), scaleAttr, store->layout, store->pageSize, store->fp8Type,
      compress ? std::optional<int64_t>(stateBlockSize.getValue()) : std::nullopt,
      compress && (overlap.getNumOccurrences() ? overlap.getValue() : ratio == 4), outLocType);
  if (!spec)
    return fail(problem);
  return spec;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  dsv4_tools::setUpTool();
  cl::HideUnrelatedOptions(category);
  std::vector<char *> args = dsv4_tools::commandLine(argc, argv);
  cl::ParseCommandLineOptions(args.size(), args.data(),
                              "dsv4-gen: the dsv4 IR of one kernel configuration\n");

  mlir::MLIRContext context;
  context.loadDialect<mlir::dsv4::Dsv4Dialect, mlir::func::FuncDialect>();
  mlir::FailureOr<mlir::dsv4::KernelSpecAttr> spec = readSpec(context);
  if (failed(spec))
    return 1;
  std::string kernel = name.empty() ? mlir::dsv4::kernelName(*spec) : name.getValue();
  if (!mlir::dsv4::isValidKernelName(kernel)) {
    WithColor::error(errs(), "dsv4-gen") << "kernel name '" << kernel
                                         << "' is not a valid symbol: "
                                         << mlir::dsv4::kKernelNameRule << "\n";
    return 1;
  }

  std::string error;
  std::unique_ptr<ToolOutputFile> file = mlir::openOutputFile(output, &error);
  if (!file) {
    WithColor::error(errs(), "dsv4-gen") << error << "\n";
    return 1;
  }
  if (printName) {
    file->os() << kernel << "\n";
  } else {
    mlir::OpBuilder builder(&context);
    mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
    mlir::dsv4::buildKernel(builder, builder.getUnknownLoc(), *spec, kernel);
    // A verified spec builds ops that verify; the ops' verifiers have the last word.
    if (failed(mlir::verify(*module)))
      return 1;
    // The function alone, not its module: outputs of several runs concatenate into one input.
    for (mlir::Operation &op : *module->getBody())
      file->os() << op << "\n";
  }
  file->keep();
  return 0;
}
