// The dsv4 manifest's one writer: both the text embedded in the code object and the side
// JSON come from here.
#include "dsv4/Target/Manifest.h"

#include "dsv4/ABI/Manifest.h"
#include "dsv4/ABI/KernelABI.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace abi = ::dsv4_abi;

FailureOr<dsv4::TargetName> dsv4::describeTarget(Attribute target) {
  if (auto rocdl = dyn_cast<ROCDL::ROCDLTargetAttr>(target))
    return TargetName{rocdl.getTriple().str(), rocdl.getChip().str()};
  if (auto nvvm = dyn_cast<NVVM::NVVMTargetAttr>(target))
    return TargetName{nvvm.getTriple().str(), nvvm.getChip().str()};
  return failure();
}

int64_t dsv4::workgroupMemoryBytes(gpu::GPUFuncOp kernel) {
  int64_t bytes = 0;
  for (BlockArgument buffer : kernel.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8;
  }
  return bytes;
}

std::string dsv4::writeManifest(StringRef kernel, const TargetName &target,
                                DictionaryAttr config, unsigned indent, StringRef binary,
                                DictionaryAttr resources) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream json(os, indent);
  json.object([&] {
    json.attribute(abi::kFormatKey, abi::kManifestFormat);
    json.attribute(abi::kKernelKey, kernel);
    if (!binary.empty())
      json.attribute(abi::kBinaryKey, binary);
    json.attribute(abi::kTargetKey, target.triple);
    json.attribute(abi::kChipKey, target.chip);
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
    // A store kernel (its configuration names a layout) takes the store arguments too; a
    // compress kernel (it names a state block size) takes a list of its own.
    bool store = config.get(abi::kLayoutKey) != nullptr;
    ArrayRef<StringLiteral> names = ArrayRef(kKernelArgNames).take_front(numKernelArgs(store));
    ArrayRef<StringLiteral> kinds = ArrayRef(kKernelArgKinds).take_front(numKernelArgs(store));
    if (config.get(abi::kStateBlockSizeKey)) {
      names = kCompressKernelArgNames;
      kinds = kCompressKernelArgKinds;
    }
    json.attributeArray(abi::kArgsKey, [&] {
      for (auto [name, kind] : llvm::zip_equal(names, kinds))
        json.object([&] {
          json.attribute(abi::kArgNameKey, name);
          json.attribute(abi::kArgTypeKey, kind);
        });
    });
    if (resources)
      json.attributeObject(abi::kResourcesKey, [&] {
        for (NamedAttribute entry : resources)
          json.attribute(entry.getName(), cast<IntegerAttr>(entry.getValue()).getInt());
      });
  });
  return text;
}
