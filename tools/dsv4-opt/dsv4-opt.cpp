// dsv4-opt: mlir-opt with the dsv4 dialect, every dsv4 pass and pipeline, and upstream MLIR.
#include "ToolSetup.h"
#include "dsv4/Conversion/Passes.h"
#include "dsv4/Dialect/Dsv4/Transforms/Passes.h"
#include "dsv4/Pipelines/Pipelines.h"
#include "dsv4/Target/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/InitLLVM.h"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  dsv4_tools::setUpTool();
  mlir::registerAllPasses();
  mlir::dsv4::registerDsv4Passes();
  mlir::dsv4::registerDsv4ConversionPasses();
  mlir::dsv4::registerDsv4TargetPasses();
  mlir::dsv4::registerDsv4Pipelines();

  mlir::DialectRegistry registry;
  registry.insert<mlir::dsv4::Dsv4Dialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates each gpu.module to LLVM IR before serializing it.
  mlir::registerAllToLLVMIRTranslations(registry);
  // MlirOptMain(argc, argv, name, registry) would run its own InitLLVM after setUpTool.
  std::vector<char *> args = dsv4_tools::commandLine(argc, argv);
  auto [input, output] = mlir::registerAndParseCLIOptions(
      args.size(), args.data(), "dsv4 optimizer and compiler driver\n", registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(args.size(), args.data(), input, output, registry));
}
