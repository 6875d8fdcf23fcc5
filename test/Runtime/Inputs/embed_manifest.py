"""Prints a stand-in kernel (abi_kernel.ll or abi_kernel.ptx, next to this file) with MANIFEST
embedded as dsv4-embed-manifest embeds it: the global `dsv4_manifest`, the JSON text
NUL-terminated, and the global `dsv4_manifest_digest`, the 64-bit FNV-1a of that text
(include/dsv4/ABI/ManifestDigest.h) least significant byte first, both in the global address
space. Usage: embed_manifest.py MANIFEST ll|ptx"""
import os
import sys


def fnv1a64(data):
    digest = 0xcbf29ce484222325
    for byte in data:
        digest = ((digest ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    return digest


def global_bytes(name, data, kind):
    if kind == "ll":
        escaped = "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else "\\%02X" % b
                          for b in data)
        return '@%s = addrspace(1) constant [%d x i8] c"%s"\n' % (name, len(data), escaped)
    return ".visible .global .align 1 .b8 %s[%d] = {%s};\n" % (
        name, len(data), ", ".join(str(b) for b in data))


manifest, kind = sys.argv[1], sys.argv[2]
text = open(manifest, "rb").read()
stand_in = open(os.path.join(os.path.dirname(__file__), "abi_kernel." + kind)).read()
sys.stdout.write(stand_in + "\n" + global_bytes("dsv4_manifest", text + b"\0", kind)
                 + global_bytes("dsv4_manifest_digest", fnv1a64(text).to_bytes(8, "little"),
                                kind))
