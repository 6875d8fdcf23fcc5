// dsv4-write-code-objects: each gpu.binary object to `<kernel>.<chip>.<ext>` plus the JSON
// manifest of docs/ABI.md that the runtime checks every launch against, with the resources an
// HSACO's own metadata reports; a kernel that needs scratch (or spills) is refused.
#include "dsv4/ABI/Manifest.h"
#include "dsv4/Conversion/KernelABI.h"
#include "dsv4/Transforms/Passes.h"

#include "mlir/Target/LLVM/ROCDL/Utils.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4WRITECODEOBJECTS
#include "Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
namespace abi = ::dsv4_abi;
struct ObjectInfo {
  std::string triple, chip, extension;
};

FailureOr<ObjectInfo> describe(gpu::ObjectAttr object) {
  bool assembly = object.getFormat() == gpu::CompilationTarget::Assembly;
  if (auto rocdl = dyn_cast<ROCDL::ROCDLTargetAttr>(object.getTarget()))
    return ObjectInfo{rocdl.getTriple().str(), rocdl.getChip().str(), assembly ? "s" : "hsaco"};
  if (auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget()))
    return ObjectInfo{nvvm.getTriple().str(), nvvm.getChip().str(), assembly ? "ptx" : "cubin"};
  return failure();
}

/// What getAMDHSAKernelsELFMetadata reports of a kernel that the manifest records (as
/// "resources", under the metadata's own names): registers, LDS, scratch and spills.
constexpr llvm::StringLiteral kResourceKeys[] = {
    "vgpr_count",       "sgpr_count",       "agpr_count",     "group_segment_fixed_size",
    "private_segment_fixed_size", "vgpr_spill_count", "sgpr_spill_count", "wavefront_size"};

void writeManifest(llvm::json::OStream &json, StringRef kernel, StringRef binary,
                   const ObjectInfo &info, DictionaryAttr config, DictionaryAttr resources) {
  json.object([&] {
    json.attribute(abi::kFormatKey, abi::kManifestFormat);
    json.attribute(abi::kKernelKey, kernel);
    json.attribute(abi::kBinaryKey, binary);
    json.attribute(abi::kTargetKey, info.triple);
    json.attribute(abi::kChipKey, info.chip);
    for (NamedAttribute entry : config) {
      Attribute value = entry.getValue();
      if (auto str = dyn_cast<StringAttr>(value))
        json.attribute(entry.getName(), str.getValue());
      else if (auto flag = dyn_cast<BoolAttr>(value))
        json.attribute(entry.getName(), flag.getValue());
      else if (auto integer = dyn_cast<IntegerAttr>(value))
        json.attribute(entry.getName(), integer.getInt());
      else if (auto real = dyn_cast<FloatAttr>(value))
        json.attribute(entry.getName(), real.getValueAsDouble());
    }
    // A store kernel (its configuration names a layout) takes the store arguments too.
    bool store = config.get(abi::kLayoutKey) != nullptr;
    json.attributeArray(abi::kArgsKey, [&] {
      for (unsigned arg = 0; arg < numKernelArgs(store); ++arg)
        json.object([&] {
          json.attribute(abi::kArgNameKey, kKernelArgNames[arg]);
          json.attribute(abi::kArgTypeKey, kKernelArgKinds[arg]);
        });
    });
    if (resources)
      json.attributeObject(abi::kResourcesKey, [&] {
        for (NamedAttribute entry : resources)
          json.attribute(entry.getName(), cast<IntegerAttr>(entry.getValue()).getInt());
      });
  });
}

struct Dsv4WriteCodeObjectsPass
    : dsv4::impl::Dsv4WriteCodeObjectsBase<Dsv4WriteCodeObjectsPass> {
  using Dsv4WriteCodeObjectsBase::Dsv4WriteCodeObjectsBase;

  /// The output folder is made when the pass manager initializes, so a bad one fails before
  /// any lowering (and without printing the module).
  LogicalResult initialize(MLIRContext *context) override {
    if (std::error_code error = llvm::sys::fs::create_directories(outputDir))
      return emitError(UnknownLoc::get(context))
             << "cannot create output folder '" << outputDir << "': " << error.message();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto kernels = module->getAttrOfType<DictionaryAttr>(kKernelsAttrName);
    WalkResult result = module.walk([&](gpu::BinaryOp binary) {
      auto config = kernels ? kernels.getAs<DictionaryAttr>(binary.getName()) : DictionaryAttr();
      if (!config) {
        binary.emitError() << "no dsv4 kernel named '" << binary.getName()
                           << "' was recorded: run convert-dsv4-to-gpu first";
        return WalkResult::interrupt();
      }
      for (auto object : binary.getObjects().getAsRange<gpu::ObjectAttr>())
        if (failed(writeObject(binary, object, config)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult writeObject(gpu::BinaryOp binary, gpu::ObjectAttr object,
                            DictionaryAttr config) {
    FailureOr<ObjectInfo> info = describe(object);
    if (failed(info))
      return binary.emitError() << "object for an unsupported target " << object.getTarget();
    // A linker that exits 0 without output would otherwise leave an empty .hsaco behind.
    if (object.getObject().getValue().empty())
      return mlir::emitError(binary.getLoc())
             << "the " << info->chip << " code object of kernel '" << binary.getName()
             << "' is empty (the linker wrote nothing)";
    std::string stem = (binary.getName() + "." + info->chip).str();
    std::string binaryName = stem + "." + info->extension;
    if (failed(writeFile(binary, binaryName, object.getObject().getValue())))
      return failure();
    FailureOr<DictionaryAttr> resources = readResources(binary, object);
    if (failed(resources))
      return failure();
    std::string manifest;
    llvm::raw_string_ostream os(manifest);
    llvm::json::OStream json(os, /*IndentSize=*/2);
    writeManifest(json, binary.getName(), binaryName, *info, config, *resources);
    os << "\n";
    return writeFile(binary, stem + ".json", manifest);
  }

  /// The kernel's resources from an HSACO's own metadata note (null for PTX or assembly,
  /// which carry none); an error if it cannot be read or the kernel needs scratch. Errors go
  /// to the location alone: the op would print its whole binary.
  FailureOr<DictionaryAttr> readResources(gpu::BinaryOp binary, gpu::ObjectAttr object) {
    if (!isa<ROCDL::ROCDLTargetAttr>(object.getTarget()) ||
        object.getFormat() != gpu::CompilationTarget::Binary)
      return DictionaryAttr();
    Builder builder(&getContext());
    StringRef bytes = object.getObject().getValue();
    auto metadata =
        ROCDL::getAMDHSAKernelsELFMetadata(builder, ArrayRef<char>(bytes.data(), bytes.size()));
    if (!metadata)
      return emitError(binary.getLoc()) << "cannot read the AMDGPU metadata note of the code object "
                                   "for '" << binary.getName() << "'";
    auto kernel = metadata->find(builder.getStringAttr(binary.getName()));
    if (kernel == metadata->end())
      return emitError(binary.getLoc()) << "the code object for '" << binary.getName()
                                << "' has no AMDGPU metadata for that kernel";
    SmallVector<NamedAttribute> resources;
    for (StringRef key : kResourceKeys) {
      auto value = dyn_cast_or_null<IntegerAttr>(kernel->second.get(key));
      if (!value)
        return emitError(binary.getLoc()) << "the AMDGPU metadata of '" << binary.getName()
                                  << "' lacks '" << key << "'";
      resources.push_back(builder.getNamedAttr(key, value));
    }
    DictionaryAttr dict = builder.getDictionaryAttr(resources);
    // Scratch is per-lane global memory: a kernel that needs it (for spills or a stack) is
    // far slower than its budget allows, so it is a build failure, not a report line.
    auto count = [&](StringRef key) { return dict.getAs<IntegerAttr>(key).getInt(); };
    if (count("private_segment_fixed_size") || count("vgpr_spill_count") ||
        count("sgpr_spill_count"))
      return emitError(binary.getLoc()) << "kernel '" << binary.getName() << "' needs "
                                << count("private_segment_fixed_size")
                                << " bytes of scratch per lane (" << count("vgpr_spill_count")
                                << " VGPR and " << count("sgpr_spill_count")
                                << " SGPR spills): lower lanes-per-row or rows-per-workgroup";
    return dict;
  }

  LogicalResult writeFile(Operation *op, StringRef name, StringRef contents) {
    llvm::SmallString<256> path(outputDir);
    llvm::sys::path::append(path, name);
    std::error_code error;
    llvm::raw_fd_ostream file(path, error);
    if (error)
      return mlir::emitError(op->getLoc())
             << "cannot write '" << path << "': " << error.message();
    file << contents;
    file.close();
    if (file.has_error()) {
      error = file.error();
      file.clear_error(); // else the stream's destructor aborts
      return mlir::emitError(op->getLoc())
             << "cannot write '" << path << "': " << error.message();
    }
    // One line per file, so a user sees what a compile produced and where.
    mlir::emitRemark(op->getLoc()) << "wrote " << path;
    return success();
  }
};
} // namespace
