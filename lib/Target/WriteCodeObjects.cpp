// dsv4-write-code-objects: each gpu.binary object to `<kernel>.<chip>.<ext>` plus a side JSON
// for tools: the manifest embedded in the object (docs/ABI.md), with the resources an HSACO's
// own metadata reports; a kernel that needs scratch (or spills) is refused.
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Target/Chips.h"
#include "dsv4/Target/Manifest.h"
#include "dsv4/Target/Passes.h"
#include "dsv4/Target/WriteFile.h"

#include "mlir/Target/LLVM/ROCDL/Utils.h"

#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/AMDHSAKernelDescriptor.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4WRITECODEOBJECTS
#include "dsv4/Target/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// The file extension of an object: HSACO or AMD assembly, PTX or cubin.
StringRef extensionOf(gpu::ObjectAttr object) {
  bool assembly = object.getFormat() == gpu::CompilationTarget::Assembly;
  if (isa<ROCDL::ROCDLTargetAttr>(object.getTarget()))
    return assembly ? "s" : "hsaco";
  return assembly ? "ptx" : "cubin";
}

/// What getAMDHSAKernelsELFMetadata reports of a kernel that the side JSON records (as
/// "resources", under the metadata's own names): registers, LDS, scratch and spills.
constexpr llvm::StringLiteral kResourceKeys[] = {
    "vgpr_count",       "sgpr_count",       "agpr_count",     "group_segment_fixed_size",
    "private_segment_fixed_size", "vgpr_spill_count", "sgpr_spill_count", "wavefront_size"};

/// The kernel-argument segment size, which getAMDHSAKernelsELFMetadata does not report, from
/// the kernel descriptor `<kernel>.kd` of the HSACO `image`.
std::optional<int64_t> kernargSegmentSize(StringRef image, StringRef kernel) {
  auto object = llvm::object::ObjectFile::createELFObjectFile(llvm::MemoryBufferRef(image, ""));
  if (!object) {
    llvm::consumeError(object.takeError());
    return std::nullopt;
  }
  std::string descriptor = (kernel + ".kd").str();
  for (const llvm::object::SymbolRef &symbol : (*object)->symbols()) {
    llvm::Expected<StringRef> name = symbol.getName();
    llvm::Expected<uint64_t> address = symbol.getAddress();
    llvm::Expected<llvm::object::section_iterator> section = symbol.getSection();
    if (!name || !address || !section || *name != descriptor ||
        *section == (*object)->section_end()) {
      llvm::consumeError(name.takeError());
      llvm::consumeError(address.takeError());
      llvm::consumeError(section.takeError());
      continue;
    }
    llvm::Expected<StringRef> contents = (*section)->getContents();
    uint64_t at = *address - (*section)->getAddress() + llvm::amdhsa::KERNARG_SIZE_OFFSET;
    if (!contents || at + sizeof(uint32_t) > contents->size()) {
      llvm::consumeError(contents.takeError());
      return std::nullopt;
    }
    return llvm::support::endian::read32le(contents->data() + at);
  }
  return std::nullopt;
}

struct Dsv4WriteCodeObjectsPass
    : dsv4::impl::Dsv4WriteCodeObjectsBase<Dsv4WriteCodeObjectsPass> {
  using Dsv4WriteCodeObjectsBase::Dsv4WriteCodeObjectsBase;

  /// The output folder is made when the pass manager initializes, so a bad one fails before
  /// any lowering (and without printing the module).
  LogicalResult initialize(MLIRContext *context) override {
    if (outputDir.empty())
      return emitError(UnknownLoc::get(context))
             << "no output folder given: pass output-dir=";
    if (std::error_code error = llvm::sys::fs::create_directories(outputDir))
      return emitError(UnknownLoc::get(context))
             << "cannot create output folder '" << outputDir << "': " << error.message();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto kernels = module->getAttrOfType<DictionaryAttr>(kKernelsAttrName);
    WalkResult result = module.walk([&](gpu::BinaryOp binary) {
      // The name becomes the file name: '../x' would be written outside the folder.
      if (!isValidKernelName(binary.getName())) {
        mlir::emitError(binary.getLoc()) << "kernel name '" << binary.getName()
                                         << "' is not a valid symbol: " << kKernelNameRule;
        return WalkResult::interrupt();
      }
      auto record =
          kernels ? kernels.getAs<KernelRecordAttr>(binary.getName()) : KernelRecordAttr();
      if (!record) {
        mlir::emitError(binary.getLoc()) << "no dsv4 kernel named '" << binary.getName()
                           << "' was recorded: run convert-dsv4-to-gpu first";
        return WalkResult::interrupt();
      }
      for (auto object : binary.getObjects().getAsRange<gpu::ObjectAttr>())
        if (failed(writeObject(binary, object, record)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult writeObject(gpu::BinaryOp binary, gpu::ObjectAttr object,
                            KernelRecordAttr record) {
    FailureOr<TargetName> info = describeTarget(object.getTarget());
    if (failed(info))
      return mlir::emitError(binary.getLoc())
             << "object for an unsupported target " << object.getTarget();
    // A linker that exits 0 without output would otherwise leave an empty .hsaco behind.
    if (object.getObject().getValue().empty())
      return mlir::emitError(binary.getLoc())
             << "the " << info->chip << " code object of kernel '" << binary.getName()
             << "' is empty (the linker wrote nothing)";
    std::string stem = (binary.getName() + "." + info->chip).str();
    std::string binaryName = (stem + "." + extensionOf(object)).str();
    if (failed(writeFile(binary, binaryName, object.getObject().getValue())))
      return failure();
    FailureOr<DictionaryAttr> resources = readResources(binary, object);
    if (failed(resources))
      return failure();
    std::string manifest = writeManifest(binary.getName(), *info, record, /*indent=*/2,
                                         binaryName, *resources);
    return writeFile(binary, stem + ".json", manifest + "\n");
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
    std::optional<int64_t> kernarg = kernargSegmentSize(bytes, binary.getName());
    if (!kernarg)
      return emitError(binary.getLoc()) << "the code object for '" << binary.getName()
                                        << "' has no readable kernel descriptor '"
                                        << binary.getName() << ".kd'";
    resources.push_back(
        builder.getNamedAttr("kernarg_segment_size", builder.getI64IntegerAttr(*kernarg)));
    DictionaryAttr dict = builder.getDictionaryAttr(resources);
    // Scratch is per-lane global memory: a kernel that needs it (for spills or a stack) is
    // far slower than its budget allows, so it is a build failure, not a report line. SGPR
    // spills without scratch went to VGPR lanes (v_writelane / v_readlane: no memory): the
    // split ratio-128 compress kernel has 46 such on gfx950; amd_report counts them.
    auto count = [&](StringRef key) { return dict.getAs<IntegerAttr>(key).getInt(); };
    if (count("private_segment_fixed_size") || count("vgpr_spill_count"))
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
    // A partial object must not look like a compiled one: writeFileWhole removes it.
    if (std::error_code error = writeFileWhole(path, contents))
      return mlir::emitError(op->getLoc())
             << "cannot write '" << path << "': " << error.message();
    // One line per file, so a user sees what a compile produced and where.
    mlir::emitRemark(op->getLoc()) << "wrote " << path;
    return success();
  }
};
} // namespace
