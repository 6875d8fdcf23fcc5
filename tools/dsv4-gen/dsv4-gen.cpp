// dsv4-gen: writes the dsv4 IR of one kernel configuration (the input of dsv4-opt --dsv4-compile).
#include "ToolSetup.h"
#include "dsv4/Dialect/CacheLayout.h"
#include "dsv4/Dialect/Dsv4.h"
#include "dsv4/Generator/KernelConfig.h"
#include "dsv4/Target/Toolkit.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::OptionCategory category("kernel configuration");
static cl::opt<std::string> mode("mode", cl::desc("decode | prefill"), cl::init("decode"),
                                 cl::cat(category));
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
static cl::opt<std::string> output("o", cl::desc("output file"), cl::value_desc("filename"),
                                   cl::init("-"));

/// The store options into `config`; a bad or contradictory one is one error line.
static mlir::LogicalResult readStoreOptions(mlir::dsv4::KernelConfig &config) {
  auto fail = [](const Twine &message) {
    WithColor::error(errs(), "dsv4-gen") << message << "\n";
    return mlir::failure();
  };
  bool storeOption = pageSize.getNumOccurrences() || !fp8.empty() || !chip.empty();
  if (layout.empty())
    return storeOption ? fail("--page-size, --fp8 and --chip need --layout") : mlir::success();
  config.layout = layout.getValue();
  config.pageSize = pageSize;
  if (!fp8.empty() && !chip.empty())
    return fail("give --fp8 or --chip, not both");
  if (!chip.empty()) {
    if (std::string problem = mlir::dsv4::chipProblem(chip); !problem.empty())
      return fail(problem);
    const mlir::dsv4::Chip *known = mlir::dsv4::lookupChip(chip);
    config.fp8 = known->fnuzFp8 ? "fnuz" : "fn";
  } else if (!fp8.empty()) {
    std::optional<mlir::dsv4::CacheLayout> known = mlir::dsv4::symbolizeCacheLayout(layout);
    if (known && mlir::dsv4::getCacheGeometry(*known).codes != mlir::dsv4::CodeFormat::fp8)
      return fail("--fp8 does not apply to the " + layout +
                  " layout: it quantizes to f4E2M1FN");
    config.fp8 = fp8;
  }
  return mlir::success();
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  dsv4_tools::setUpTool();
  cl::HideUnrelatedOptions(category);
  std::vector<char *> args = dsv4_tools::commandLine(argc, argv);
  cl::ParseCommandLineOptions(args.size(), args.data(),
                              "dsv4-gen: the dsv4 IR of one kernel configuration\n");

  mlir::dsv4::KernelConfig config;
  config.mode = mode;
  config.headDim = headDim;
  config.ropeDim = ropeDim;
  config.kvDtype = kvDtype;
  config.weightDtype = weightDtype;
  config.eps = eps;
  config.ratio = ratio;
  config.rotate = rotate;
  if (scale.getNumOccurrences())
    config.scale = scale.getValue();
  if (failed(readStoreOptions(config)))
    return 1;
  if (std::string problem = mlir::dsv4::validate(config); !problem.empty()) {
    WithColor::error(errs(), "dsv4-gen") << problem << "\n";
    return 1;
  }
  std::string kernel = name.empty() ? mlir::dsv4::kernelName(config) : name.getValue();
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
    mlir::MLIRContext context;
    context.loadDialect<mlir::dsv4::Dsv4Dialect, mlir::func::FuncDialect>();
    mlir::OpBuilder builder(&context);
    mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
    mlir::dsv4::buildKernel(builder, builder.getUnknownLoc(), config, kernel);
    // The function alone, not its module: outputs of several runs concatenate into one input.
    for (mlir::Operation &op : *module->getBody())
      file->os() << op << "\n";
  }
  file->keep();
  return 0;
}
