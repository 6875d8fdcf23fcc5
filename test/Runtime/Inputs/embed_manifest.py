"""Prints a stand-in kernel (abi_kernel.ll or abi_kernel.ptx, next to this file) with MANIFEST
embedded as dsv4-embed-manifest embeds it: the global `dsv4_manifest`, the JSON text
NUL-terminated, in the global address space.  Usage: embed_manifest.py MANIFEST ll|ptx"""
import os
import sys

manifest, kind = sys.argv[1], sys.argv[2]
text = open(manifest, "rb").read() + b"\0"
stand_in = open(os.path.join(os.path.dirname(__file__), "abi_kernel." + kind)).read()
if kind == "ll":
    escaped = "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else "\\%02X" % b for b in text)
    glob = '@dsv4_manifest = addrspace(1) constant [%d x i8] c"%s"\n' % (len(text), escaped)
else:
    glob = ".visible .global .align 1 .b8 dsv4_manifest[%d] = {%s};\n" % (
        len(text), ", ".join(str(b) for b in text))
sys.stdout.write(stand_in + "\n" + glob)
