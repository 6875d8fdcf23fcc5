// dsv4-embed-manifest: each dsv4 gpu.module gets its launch manifest as a constant global
// (dsv4_abi::kManifestSymbol) in the global address space, so the manifest travels inside
// the code object and the runtime reads it from the module it loaded: a side file can no
// longer disagree with the kernel it describes. Beside it, the manifest's digest
// (dsv4_abi::kManifestDigestSymbol), so that an edit of the manifest in the object is refused.
#include "dsv4/ABI/Manifest.h"
#include "dsv4/ABI/KernelABI.h"
#include "dsv4/Target/Manifest.h"
#include "dsv4/Target/Passes.h"

namespace mlir::dsv4 {
#define GEN_PASS_DEF_DSV4EMBEDMANIFEST
#include "dsv4/Target/Passes.h.inc"
} // namespace mlir::dsv4

using namespace mlir;
using namespace mlir::dsv4;

namespace {
namespace abi = ::dsv4_abi;

/// LLVM's global address space on both targets (AMDGPU and NVPTX): where
/// hipModuleGetGlobal / cuModuleGetGlobal find a variable.
constexpr unsigned kGlobalAddressSpace = 1;

struct Dsv4EmbedManifestPass : dsv4::impl::Dsv4EmbedManifestBase<Dsv4EmbedManifestPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto kernels = module->getAttrOfType<DictionaryAttr>(kKernelsAttrName);
    NamedAttrList updated(kernels);
    WalkResult result = module.walk([&](gpu::GPUModuleOp gpuModule) {
      auto record = kernels ? kernels.getAs<KernelRecordAttr>(gpuModule.getName()) : nullptr;
      if (!record)
        return WalkResult::skip(); // not a dsv4 kernel
      FailureOr<KernelRecordAttr> embedded = embed(gpuModule, record);
      if (failed(embedded))
        return WalkResult::interrupt();
      updated.set(gpuModule.getNameAttr(), *embedded);
      return WalkResult::skip();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    if (kernels)
      module->setAttr(kKernelsAttrName, updated.getDictionary(&getContext()));
  }

  /// Adds the kernel's LDS bytes to `record` (the side JSON then has them too), writes the
  /// manifest into `gpuModule` and returns the new record.
  FailureOr<KernelRecordAttr> embed(gpu::GPUModuleOp gpuModule, KernelRecordAttr record) {
    ArrayAttr targets = gpuModule.getTargetsAttr();
    FailureOr<TargetName> target =
        targets && targets.size() == 1 ? describeTarget(targets[0]) : FailureOr<TargetName>();
    if (failed(target))
      return gpuModule.emitOpError()
             << "needs exactly one #rocdl.target or #nvvm.target: run dsv4-attach-target first";
    auto kernel = gpuModule.lookupSymbol<gpu::GPUFuncOp>(gpuModule.getName());
    if (!kernel)
      return gpuModule.emitOpError() << "holds no kernel named '" << gpuModule.getName() << "'";
    KernelRecordAttr withLds = record.withLdsBytes(workgroupMemoryBytes(kernel));
    std::string text = writeManifest(gpuModule.getName(), *target, withLds, /*indent=*/0);
    // The runtime refuses a manifest whose bytes do not give back this digest.
    std::string digest(DSV4_MANIFEST_DIGEST_BYTES, '\0');
    dsv4_manifest_digest_to_bytes(dsv4_manifest_digest(text.data(), text.size()),
                                  reinterpret_cast<unsigned char *>(digest.data()));
    text.push_back('\0'); // the runtime reads a C string
    if (text.size() > abi::kMaxManifestBytes)
      return gpuModule.emitOpError() << "manifest of " << text.size() << " bytes exceeds the "
                                     << abi::kMaxManifestBytes << " the runtime reads";
    OpBuilder atStart = OpBuilder::atBlockBegin(gpuModule.getBody());
    addConstantBytes(atStart, gpuModule.getLoc(), abi::kManifestSymbol, text);
    addConstantBytes(atStart, gpuModule.getLoc(), abi::kManifestDigestSymbol, digest);
    return withLds;
  }

  /// An exported constant byte array in the global address space.
  static void addConstantBytes(OpBuilder &builder, Location loc, StringRef symbol,
                               StringRef bytes) {
    auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), bytes.size());
    LLVM::GlobalOp::create(builder, loc, type, /*isConstant=*/true, LLVM::Linkage::External,
                           symbol, builder.getStringAttr(bytes), /*alignment=*/0,
                           kGlobalAddressSpace);
  }
};
} // namespace
