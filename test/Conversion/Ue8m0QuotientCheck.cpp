// dsv4-ue8m0-check: holds ue8m0OfQuotient (Ue8m0Quotient.h, what the kernels and the CPU
// reference emit) to SPEC.md's definition, ue8m0_round_up(f32(amax / MAX)) by an IEEE
// division, for every f32 amax from kMinAmax to +inf and the MAX of each code type. Prints one
// line per type and exits 1 at the first amax where they differ.
#include "dsv4/Conversion/CacheStore.h"
#include "dsv4/Conversion/Ue8m0Quotient.h"
#include "dsv4/Dialect/Dsv4/IR/CacheLayout.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::dsv4;

namespace {
/// SPEC.md's e for an f32 quotient: its exponent field, plus one unless it is a power of two.
int32_t ue8m0RoundUp(float quotient) {
  uint32_t bits = f32Bits(quotient);
  return int32_t(bits >> kF32MantissaFieldBits) + int32_t((bits & kF32MantissaMask) != 0);
}

float f32FromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

/// Every amax for one MAX; false (and the amax printed) at the first difference.
bool checkAll(StringRef name, float max) {
  Ue8m0Divisor divisor = ue8m0DivisorOf(max);
  uint64_t checked = 0;
  for (uint64_t bits = f32Bits(kMinAmax); bits <= kF32InfinityBits; ++bits, ++checked) {
    float amax = f32FromBits(uint32_t(bits));
    int32_t expected = ue8m0RoundUp(amax / max);
    int32_t got = ue8m0OfQuotient(uint32_t(bits), divisor);
    if (got != expected) {
      llvm::outs() << name << " MAX " << llvm::format("%g", max) << ": amax bits "
                   << llvm::format_hex(bits, 10) << " gives " << got << ", the division "
                   << expected << "\n";
      return false;
    }
  }
  llvm::outs() << name << " MAX " << llvm::format("%g", max) << ": " << checked << " amax values, all equal\n";
  return true;
}
} // namespace

int main() {
  MLIRContext context;
  Type types[] = {Float8E4M3FNType::get(&context), Float8E4M3FNUZType::get(&context),
                  Float4E2M1FNType::get(&context)};
  for (Type type : types) {
    std::string name;
    llvm::raw_string_ostream(name) << type;
    if (!checkAll(name, getQuantizedMax(type).convertToFloat()))
      return 1;
  }
  return 0;
}
