//===- AmdgpuMetadata.cpp - kernel layouts from an HSACO's note -----------===//
//
// ELF walking is done by hand (no <elf.h> dependency, no host-endianness
// assumption); every offset read from the file is checked against its size
// before use.
//
//===----------------------------------------------------------------------===//
#include "AmdgpuMetadata.h"

#include "Error.h"
#include "MsgPack.h"

#include <cstring>

using namespace dsv4::rt;

namespace {

constexpr uint16_t kEmAmdgpu = 224;
constexpr uint16_t kEtDyn = 3;
constexpr uint32_t kShtNote = 7;
constexpr uint32_t kPtNote = 4;
constexpr uint32_t kNtAmdgpuMetadata = 32;
constexpr size_t kElf64HeaderSize = 64;

uint64_t readLE(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;)
    v = (v << 8) | p[i];
  return v;
}

// [offset, offset + size) lies inside [0, total).
bool inBounds(uint64_t offset, uint64_t size, uint64_t total) {
  return offset <= total && size <= total - offset;
}

// Finds the NT_AMDGPU_METADATA descriptor inside one note region.
bool findNote(const uint8_t *base, uint64_t size, const uint8_t *&desc,
              uint64_t &descSize) {
  uint64_t pos = 0;
  while (size - pos >= 12) {
    uint64_t nameSize = readLE(base + pos, 4);
    uint64_t dSize = readLE(base + pos + 4, 4);
    uint64_t type = readLE(base + pos + 8, 4);
    pos += 12;
    // Name and descriptor are each padded to 4 bytes.
    uint64_t namePadded = (nameSize + 3) & ~uint64_t(3);
    uint64_t descPadded = (dSize + 3) & ~uint64_t(3);
    if (!inBounds(pos, namePadded, size) ||
        !inBounds(pos + namePadded, dSize, size))
      return false;
    bool isAmdgpu = nameSize == 7 && std::memcmp(base + pos, "AMDGPU\0", 7) == 0;
    if (isAmdgpu && type == kNtAmdgpuMetadata) {
      desc = base + pos + namePadded;
      descSize = dSize;
      return true;
    }
    pos += namePadded;
    if (!inBounds(pos, descPadded, size))
      return false;
    pos += descPadded;
  }
  return false;
}

dsv4_status malformed(const char *what) {
  return fail(DSV4_ERR_LOAD_FAILED, "code object: malformed AMDGPU metadata: %s", what);
}

dsv4_status readArg(MsgPackReader &r, KernelArgInfo &arg) {
  uint32_t n;
  if (!r.readMapHeader(n))
    return malformed("an .args entry is not a map");
  bool haveOffset = false, haveSize = false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key, s;
    uint64_t u;
    if (!r.readString(key))
      return malformed("non-string key in an .args entry");
    if (key == ".offset" || key == ".size") {
      if (!r.readUInt(u) || u > UINT32_MAX)
        return malformed("bad .offset/.size in an .args entry");
      (key == ".offset" ? arg.offset : arg.size) = static_cast<uint32_t>(u);
      (key == ".offset" ? haveOffset : haveSize) = true;
    } else if (key == ".value_kind") {
      if (!r.readString(s))
        return malformed("bad .value_kind in an .args entry");
      arg.valueKind = std::string(s);
    } else if (!r.skip()) {
      return malformed("truncated .args entry");
    }
  }
  if (!haveOffset || !haveSize || arg.valueKind.empty())
    return malformed("an .args entry lacks .offset, .size or .value_kind");
  return DSV4_OK;
}

dsv4_status readKernel(MsgPackReader &r, KernelInfo &k) {
  uint32_t n;
  if (!r.readMapHeader(n))
    return malformed("an amdhsa.kernels entry is not a map");
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key, s;
    uint64_t u;
    if (!r.readString(key))
      return malformed("non-string key in a kernel entry");
    if (key == ".name" || key == ".symbol") {
      if (!r.readString(s))
        return malformed("bad .name/.symbol");
      (key == ".name" ? k.name : k.symbol) = std::string(s);
    } else if (key == ".kernarg_segment_size" || key == ".kernarg_segment_align") {
      if (!r.readUInt(u) || u > UINT32_MAX)
        return malformed("bad .kernarg_segment_size/.kernarg_segment_align");
      (key == ".kernarg_segment_size" ? k.kernargSegmentSize
                                      : k.kernargSegmentAlign) = uint32_t(u);
    } else if (key == ".args") {
      uint32_t numArgs;
      if (!r.readArrayHeader(numArgs))
        return malformed(".args is not an array");
      k.args.resize(numArgs);
      for (KernelArgInfo &arg : k.args)
        if (dsv4_status st = readArg(r, arg))
          return st;
    } else if (!r.skip()) {
      return malformed("truncated kernel entry");
    }
  }
  if (k.name.empty())
    return malformed("a kernel entry has no .name");
  for (const KernelArgInfo &arg : k.args)
    if (uint64_t(arg.offset) + arg.size > k.kernargSegmentSize)
      return malformed("an argument lies outside .kernarg_segment_size");
  return DSV4_OK;
}

dsv4_status readRoot(MsgPackReader &r, CodeObjectMetadata &out) {
  uint32_t n;
  if (!r.readMapHeader(n))
    return malformed("the root is not a map");
  bool sawKernels = false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key, s;
    if (!r.readString(key))
      return malformed("non-string key at the root");
    if (key == "amdhsa.target") {
      if (!r.readString(s))
        return malformed("amdhsa.target is not a string");
      out.target = std::string(s);
    } else if (key == "amdhsa.kernels") {
      uint32_t numKernels;
      if (!r.readArrayHeader(numKernels))
        return malformed("amdhsa.kernels is not an array");
      out.kernels.resize(numKernels);
      for (KernelInfo &k : out.kernels)
        if (dsv4_status st = readKernel(r, k))
          return st;
      sawKernels = true;
    } else if (!r.skip()) {
      return malformed("truncated root map");
    }
  }
  if (!sawKernels)
    return malformed("no amdhsa.kernels");
  return DSV4_OK;
}

} // namespace

const KernelInfo *CodeObjectMetadata::findKernel(std::string_view name) const {
  for (const KernelInfo &k : kernels)
    if (k.name == name)
      return &k;
  return nullptr;
}

std::string dsv4::rt::chipOf(std::string_view s) {
  size_t dashes = s.rfind("--");
  if (dashes != std::string_view::npos)
    s = s.substr(dashes + 2);
  return std::string(s.substr(0, s.find(':')));
}

dsv4_status dsv4::rt::readAmdgpuMetadata(const void *image, size_t size,
                                         CodeObjectMetadata &out) {
  out = CodeObjectMetadata();
  const auto *b = static_cast<const uint8_t *>(image);
  if (!b || size < 4 || std::memcmp(b, "\x7f" "ELF", 4) != 0)
    return fail(DSV4_ERR_LOAD_FAILED, "code object: not an ELF file");
  if (size < kElf64HeaderSize)
    return fail(DSV4_ERR_LOAD_FAILED, "code object: truncated ELF header (%zu bytes)", size);
  if (b[4] != 2 || b[5] != 1)
    return fail(DSV4_ERR_LOAD_FAILED, "code object: not a 64-bit little-endian ELF");
  uint64_t machine = readLE(b + 18, 2);
  if (machine != kEmAmdgpu)
    return fail(DSV4_ERR_LOAD_FAILED,
                "code object: e_machine is %llu, not EM_AMDGPU (224)",
                static_cast<unsigned long long>(machine));
  // The loader takes linked code objects only (ld.lld -shared output).
  uint64_t type = readLE(b + 16, 2);
  if (type != kEtDyn)
    return fail(DSV4_ERR_LOAD_FAILED,
                "code object: ELF type is %llu, not a shared object (ET_DYN); "
                "link it with ld.lld -shared", static_cast<unsigned long long>(type));
  uint64_t phoff = readLE(b + 32, 8), shoff = readLE(b + 40, 8);
  uint64_t phentsize = readLE(b + 54, 2), phnum = readLE(b + 56, 2);
  uint64_t shentsize = readLE(b + 58, 2), shnum = readLE(b + 60, 2);

  const uint8_t *desc = nullptr;
  uint64_t descSize = 0;
  // Section headers first (always present in lld output); program headers as
  // a fallback for stripped images that kept only segments.
  if (shnum) {
    if (shentsize < 64 || !inBounds(shoff, shnum * shentsize, size))
      return fail(DSV4_ERR_LOAD_FAILED, "code object: truncated ELF (section headers past the end)");
    for (uint64_t i = 0; i < shnum && !desc; ++i) {
      const uint8_t *sh = b + shoff + i * shentsize;
      if (readLE(sh + 4, 4) != kShtNote)
        continue;
      uint64_t off = readLE(sh + 24, 8), sz = readLE(sh + 32, 8);
      if (!inBounds(off, sz, size))
        return fail(DSV4_ERR_LOAD_FAILED, "code object: truncated ELF (a note section past the end)");
      findNote(b + off, sz, desc, descSize);
    }
  }
  if (!desc && phnum) {
    if (phentsize < 56 || !inBounds(phoff, phnum * phentsize, size))
      return fail(DSV4_ERR_LOAD_FAILED, "code object: truncated ELF (program headers past the end)");
    for (uint64_t i = 0; i < phnum && !desc; ++i) {
      const uint8_t *ph = b + phoff + i * phentsize;
      if (readLE(ph, 4) != kPtNote)
        continue;
      uint64_t off = readLE(ph + 8, 8), sz = readLE(ph + 32, 8);
      if (!inBounds(off, sz, size))
        return fail(DSV4_ERR_LOAD_FAILED, "code object: truncated ELF (a note segment past the end)");
      findNote(b + off, sz, desc, descSize);
    }
  }
  if (!desc)
    return fail(DSV4_ERR_LOAD_FAILED,
                "code object: no NT_AMDGPU_METADATA note (not a code object v3+?)");
  MsgPackReader reader(desc, static_cast<size_t>(descSize));
  return readRoot(reader, out);
}
