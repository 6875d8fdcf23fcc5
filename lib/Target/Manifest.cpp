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

namespace {
/// The record's facts under their manifest keys, in the keys' order (as a dictionary
/// attribute held them before the record was typed, so the text did not change).
std::vector<std::pair<StringRef, llvm::json::Value>> manifestFacts(dsv4::KernelRecordAttr record) {
  dsv4::KernelSpecAttr spec = record.getSpec();
  dsv4::KernelPlanAttr plan = record.getPlan();
  std::vector<std::pair<StringRef, llvm::json::Value>> facts = {
      {abi::kModeKey, dsv4::stringifyPositionSource(spec.getMode())},
      {abi::kRotateKey, spec.rotates()},
      {abi::kHeadDimKey, spec.getHeadDim()},
      {abi::kRopeDimKey, spec.getRopeDim()},
      {abi::kRatioKey, spec.getRatio()},
      {abi::kEpsKey, spec.getEps().getValueAsDouble()},
      // An unrotated kernel's scale is never applied; the manifest states 1.
      {abi::kScaleKey, spec.getScale() ? spec.getScale().getValueAsDouble() : 1.0},
      {abi::kKvDtypeKey, dsv4::dtypeName(spec.getKvType())},
      {abi::kWeightDtypeKey, dsv4::dtypeName(spec.getWeightType())},
      {abi::kFreqsDtypeKey, "f32"},
      // The launch geometry: threads an item takes and items a workgroup computes (a split
      // window's slots share one item).
      {abi::kLanesPerRowKey, plan.getThreadsPerItem()},
      {abi::kRowsPerWorkgroupKey, plan.getItemsPerWorkgroup()},
      {abi::kWorkgroupSizeKey, plan.getWorkgroupSize()},
      {abi::kScheduleKey, dsv4::stringifyExchangeSchedule(plan.getSchedule())},
      {abi::kWeightAlignKey, record.getWeightAlign()},
      {abi::kFreqsAlignKey, record.getFreqsAlign()},
      {abi::kFreqsRowStrideMultipleKey, record.getFreqsRowStrideMultiple()},
  };
  // The rows come from kv, or from the state a compress kernel pools.
  if (spec.compresses()) {
    facts.push_back({abi::kOverlapKey, spec.getOverlap()});
    facts.push_back({abi::kStateBlockSizeKey, *spec.getStateBlockSize()});
    facts.push_back({abi::kStateAlignKey, record.getRowAlign()});
    facts.push_back({abi::kStateStrideMultipleKey, record.getRowStrideMultiple()});
  } else {
    facts.push_back({abi::kKvAlignKey, record.getRowAlign()});
    facts.push_back({abi::kKvRowStrideMultipleKey, record.getRowStrideMultiple()});
  }
  if (spec.stores()) {
    facts.push_back({abi::kLayoutKey, dsv4::stringifyCacheLayout(*spec.getLayout())});
    facts.push_back({abi::kPageSizeKey, *spec.getPageSize()});
    // indexer_mxfp4 has no FP8 type: its codes are e2m1 on every chip.
    if (spec.getFp8Type())
      facts.push_back({abi::kFp8TypeKey, dsv4::dtypeName(spec.getFp8Type())});
    facts.push_back({abi::kCacheAlignKey, record.getCacheAlign()});
    // i64 slots, the default, are stated by the key's absence (as in the spec).
    if (Type slots = spec.getOutLocType())
      facts.push_back({abi::kOutLocDtypeKey, dsv4::dtypeName(slots)});
  }
  if (std::optional<int64_t> lds = record.getLdsBytes())
    facts.push_back({abi::kLdsBytesKey, *lds});
  llvm::sort(facts, [](const auto &a, const auto &b) { return a.first < b.first; });
  return facts;
}
} // namespace

std::string dsv4::writeManifest(StringRef kernel, const TargetName &target,
                                KernelRecordAttr record, unsigned indent, StringRef binary,
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
    for (auto &[key, value] : manifestFacts(record))
      json.attribute(key, std::move(value));
    // A store kernel takes the store arguments too; a compress kernel a list of its own.
    KernelSpecAttr spec = record.getSpec();
    ArrayRef<StringLiteral> names =
        ArrayRef(kKernelArgNames).take_front(numKernelArgs(spec.stores()));
    ArrayRef<StringLiteral> kinds =
        ArrayRef(kKernelArgKinds).take_front(numKernelArgs(spec.stores()));
    if (spec.compresses()) {
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
