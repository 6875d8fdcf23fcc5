//===- MsgPack.cpp - a minimal bounds-checked msgpack reader --------------===//
//
// Format reference: https://github.com/msgpack/msgpack/blob/master/spec.md.
// All multi-byte lengths and integers are big-endian.
//
//===----------------------------------------------------------------------===//
#include "MsgPack.h"

using namespace dsv4::rt;

namespace {
// Metadata nests maps four deep; 64 is ample and keeps recursion bounded.
constexpr int kMaxSkipDepth = 64;
} // namespace

bool MsgPackReader::take(size_t n, const uint8_t *&out) {
  if (static_cast<size_t>(end - p) < n)
    return false;
  out = p;
  p += n;
  return true;
}

bool MsgPackReader::readBE(size_t n, uint64_t &out) {
  const uint8_t *b;
  if (!take(n, b))
    return false;
  out = 0;
  for (size_t i = 0; i < n; ++i)
    out = (out << 8) | b[i];
  return true;
}

bool MsgPackReader::plausibleCount(uint64_t count, uint64_t perElement) const {
  return count <= static_cast<uint64_t>(end - p) / perElement;
}

bool MsgPackReader::readMapHeader(uint32_t &count) {
  if (p >= end)
    return false;
  uint8_t t = *p;
  uint64_t n;
  const uint8_t *save = p;
  if ((t & 0xf0) == 0x80) {
    ++p;
    n = t & 0x0f;
  } else if (t == 0xde || t == 0xdf) {
    ++p;
    if (!readBE(t == 0xde ? 2 : 4, n))
      return (p = save), false;
  } else {
    return false;
  }
  if (!plausibleCount(n, 2))
    return (p = save), false;
  count = static_cast<uint32_t>(n);
  return true;
}

bool MsgPackReader::readArrayHeader(uint32_t &count) {
  if (p >= end)
    return false;
  uint8_t t = *p;
  uint64_t n;
  const uint8_t *save = p;
  if ((t & 0xf0) == 0x90) {
    ++p;
    n = t & 0x0f;
  } else if (t == 0xdc || t == 0xdd) {
    ++p;
    if (!readBE(t == 0xdc ? 2 : 4, n))
      return (p = save), false;
  } else {
    return false;
  }
  if (!plausibleCount(n, 1))
    return (p = save), false;
  count = static_cast<uint32_t>(n);
  return true;
}

bool MsgPackReader::readString(std::string_view &out) {
  if (p >= end)
    return false;
  uint8_t t = *p;
  uint64_t n;
  const uint8_t *save = p;
  ++p;
  if ((t & 0xe0) == 0xa0) {
    n = t & 0x1f;
  } else if (t >= 0xd9 && t <= 0xdb) {
    if (!readBE(size_t(1) << (t - 0xd9), n))
      return (p = save), false;
  } else {
    return (p = save), false;
  }
  const uint8_t *b;
  if (n > static_cast<uint64_t>(end - p) || !take(static_cast<size_t>(n), b))
    return (p = save), false;
  out = std::string_view(reinterpret_cast<const char *>(b), static_cast<size_t>(n));
  return true;
}

bool MsgPackReader::readUInt(uint64_t &out) {
  if (p >= end)
    return false;
  uint8_t t = *p;
  const uint8_t *save = p;
  ++p;
  if (t <= 0x7f) {
    out = t;
    return true;
  }
  if (t >= 0xcc && t <= 0xcf) {
    if (!readBE(size_t(1) << (t - 0xcc), out))
      return (p = save), false;
    return true;
  }
  // Signed encodings of non-negative values are legal msgpack too.
  if (t >= 0xd0 && t <= 0xd3) {
    size_t n = size_t(1) << (t - 0xd0);
    uint64_t v;
    if (!readBE(n, v))
      return (p = save), false;
    if (v >> (8 * n - 1))
      return (p = save), false; // negative
    out = v;
    return true;
  }
  p = save;
  return false;
}

bool MsgPackReader::skip() { return skipDepth(0); }

bool MsgPackReader::skipDepth(int depth) {
  if (depth > kMaxSkipDepth || p >= end)
    return false;
  uint8_t t = *p;
  uint32_t count;
  if ((t & 0xf0) == 0x80 || t == 0xde || t == 0xdf) {
    if (!readMapHeader(count))
      return false;
    for (uint64_t i = 0; i < 2ull * count; ++i)
      if (!skipDepth(depth + 1))
        return false;
    return true;
  }
  if ((t & 0xf0) == 0x90 || t == 0xdc || t == 0xdd) {
    if (!readArrayHeader(count))
      return false;
    for (uint32_t i = 0; i < count; ++i)
      if (!skipDepth(depth + 1))
        return false;
    return true;
  }
  ++p;
  const uint8_t *ignored;
  uint64_t n;
  if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
    return true; // fixints, nil, booleans
  if ((t & 0xe0) == 0xa0)
    return take(t & 0x1f, ignored); // fixstr
  switch (t) {
  case 0xc4: case 0xc5: case 0xc6: // bin 8/16/32
    return readBE(size_t(1) << (t - 0xc4), n) && n <= size_t(end - p) &&
           take(static_cast<size_t>(n), ignored);
  case 0xd9: case 0xda: case 0xdb: // str 8/16/32
    return readBE(size_t(1) << (t - 0xd9), n) && n <= size_t(end - p) &&
           take(static_cast<size_t>(n), ignored);
  case 0xc7: case 0xc8: case 0xc9: // ext 8/16/32: length, type byte, data
    return readBE(size_t(1) << (t - 0xc7), n) && n < size_t(end - p) &&
           take(static_cast<size_t>(n) + 1, ignored);
  case 0xca: return take(4, ignored); // float32
  case 0xcb: return take(8, ignored); // float64
  case 0xcc: case 0xcd: case 0xce: case 0xcf: // uint 8..64
    return take(size_t(1) << (t - 0xcc), ignored);
  case 0xd0: case 0xd1: case 0xd2: case 0xd3: // int 8..64
    return take(size_t(1) << (t - 0xd0), ignored);
  case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: // fixext 1..16
    return take((size_t(1) << (t - 0xd4)) + 1, ignored);
  }
  return false; // 0xc1 is never used
}
