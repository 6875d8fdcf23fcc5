//===- MsgPack.h - a minimal bounds-checked msgpack reader ------*- C++ -*-===//
//
// Reads the subset of msgpack that AMDGPU code-object metadata uses (maps,
// arrays, strings, integers, booleans) and can skip any other value. Every
// read checks the remaining length, so garbage fails instead of crashing.
//
//===----------------------------------------------------------------------===//
#ifndef DSV4_RUNTIME_MSGPACK_H
#define DSV4_RUNTIME_MSGPACK_H

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dsv4::rt {

class MsgPackReader {
public:
  MsgPackReader(const uint8_t *data, size_t size) : p(data), end(data + size) {}

  // Each read consumes one value of that type and returns false (consuming
  // nothing useful) when the next value is of another type or truncated.
  bool readMapHeader(uint32_t &count);
  bool readArrayHeader(uint32_t &count);
  bool readString(std::string_view &out);
  bool readUInt(uint64_t &out);
  // Skips one value of any type, nested values included.
  bool skip();

private:
  const uint8_t *p;
  const uint8_t *end;

  bool skipDepth(int depth);
  bool take(size_t n, const uint8_t *&out);
  bool readBE(size_t n, uint64_t &out);
  // A container count is plausible only if that many 1-byte values remain;
  // this bounds loops over hostile counts.
  bool plausibleCount(uint64_t count, uint64_t perElement) const;
};

} // namespace dsv4::rt

#endif // DSV4_RUNTIME_MSGPACK_H
