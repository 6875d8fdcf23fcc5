"""Static report of AMD code objects (no GPU): resources from the manifest (which dsv4-write-code-objects
fills from the HSACO's metadata note; read from the note itself for objects without one), instruction
counts by class from the disassembly, and the occupancy they imply.

Run: python3 bench/amd_report.py [--objects out] [--json PATH] [--reference] [--check]
--check holds every kernel to the AMD static targets (STATIC_TARGETS) and exits 1 on a miss.
Occupancy, waves per SIMD (gfx90a and later, wave64; the VGPR count in the note already holds the
AGPRs, which share the unified 512-entry file: arch VGPRs aligned to 4, then AGPRs):
  by VGPRs: min(8, floor(512 / ceil8(vgpr_count)))
  by LDS:   min(8, floor(floor(LDS_per_CU / ceil512(group_segment)) * waves_per_workgroup / 4))
            (LDS allocated in 512-byte granules; 4 SIMDs per CU; waves_per_workgroup = ceil(wg / 64))
  result:   the smaller; SGPRs (800 per SIMD on gfx9) are not the limit at these counts and are left out.
"""
import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys

import checkout_paths  # noqa: E402,F401 - python/ and device/ on sys.path
import objects  # noqa: E402

LLVM_BIN = os.environ.get("LLVM_BIN", "/usr/lib/llvm-22/bin")
VGPRS_PER_LANE, VGPR_GRANULE, MAX_WAVES_PER_SIMD = 512, 8, 8
LDS_GRANULE, SIMDS_PER_CU = 512, 4
LDS_PER_CU = {"gfx90a": 64 * 1024, "gfx942": 64 * 1024, "gfx950": 160 * 1024}
NOTE_KEYS = (".vgpr_count", ".sgpr_count", ".agpr_count", ".group_segment_fixed_size",
             ".private_segment_fixed_size", ".wavefront_size", ".max_flat_workgroup_size",
             ".vgpr_spill_count", ".sgpr_spill_count")
# Static figures of the Triton reference kernel on gfx942/gfx950 (SPEC.md), f32 kv, 4 warps.
REFERENCE = {"kernel": "triton-reference (SPEC.md)", "vgpr": 20, "sgpr": 30, "scratch_bytes": 0, "s_barrier": 21,
             "vmem_load": 46, "vmem_store": 22, "vmem_16B": 0, "max_access_bytes": 4, "total": 390}
# Access width by the mnemonic's size suffix; longer suffixes first so "dword" doesn't match "dwordx4".
WIDTH_SUFFIXES = (("dwordx4", 16), ("b128", 16), ("dwordx3", 12), ("b96", 12), ("dwordx2", 8), ("b64", 8),
                  ("dword", 4), ("b32", 4), ("short", 2), ("b16", 2), ("u16", 2), ("i16", 2),
                  ("byte", 1), ("b8", 1), ("u8", 1), ("i8", 1))
SMEM_PREFIXES = ("s_load_", "s_buffer_load_", "s_store_", "s_buffer_store_", "s_dcache_", "s_scratch_")


def parse_notes(text):
    """{kernel name: {note key: value}} from `llvm-readelf --notes`: the scalar keys of each entry of
    amdhsa.kernels (nested lists such as .args are skipped), plus the target under "amdhsa.target"."""
    kernels, current, entry_indent, target = [], None, None, None
    in_kernels = False
    for line in text.splitlines():
        if line.startswith("amdhsa.kernels:"):
            in_kernels = True
            continue
        if line.startswith("amdhsa.target:"):
            target = line.split(":", 1)[1].strip()
        if in_kernels and line and not line[0].isspace():
            in_kernels = False
        if not in_kernels:
            continue
        m = re.match(r"^(\s*)- (\.[\w.]+):\s*(.*)$", line)
        if m and (entry_indent is None or len(m.group(1)) == entry_indent):
            entry_indent = len(m.group(1))
            current = {}
            kernels.append(current)
            line = " " * (entry_indent + 2) + m.group(2) + ": " + m.group(3)
        m = re.match(r"^(\s*)(\.[\w.]+):\s*(.*)$", line)
        if m and current is not None and len(m.group(1)) == entry_indent + 2 and m.group(3):
            current[m.group(2)] = _scalar(m.group(3))
    return {k[".name"]: dict(k, target=target) for k in kernels if ".name" in k}


def _scalar(text):
    text = text.strip().strip("'\"")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return {"true": True, "false": False}.get(text, text)


def parse_disassembly(text):
    """{symbol: [(address, mnemonic, size in bytes)]} from `llvm-objdump -d`, each list cut after
    its last s_endpgm (what follows is s_nop padding to the next kernel's alignment)."""
    symbols, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-fA-F]+ <([^>]+)>:$", line)
        if m:
            current = symbols.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\s+([a-z_][\w.]*)\b.*//\s*([0-9a-fA-F]+):((?:\s+[0-9a-fA-F]{8})+)\s*$", line)
        if m and current is not None:
            current.append((int(m.group(2), 16), m.group(1), 4 * len(m.group(3).split())))
    for name, instrs in symbols.items():
        ends = [i for i, (_, mnem, _) in enumerate(instrs) if mnem == "s_endpgm"]
        if ends:
            symbols[name] = instrs[:ends[-1] + 1]
    return symbols


def access_bytes(mnemonic):
    """Bytes per lane of a memory instruction, from the first size token after its class and
    operation (global_load_dwordx4, buffer_load_ubyte, global_load_short_d16_hi, global_load_b128)."""
    for part in mnemonic.split("_")[2:]:
        for name, size in WIDTH_SUFFIXES:
            if part.endswith(name):
                return size
    return None


def classify(instrs):
    """Instruction counts by class for one kernel's [(address, mnemonic, size)]."""
    c = dict.fromkeys(("vmem_load", "vmem_store", "vmem_atomic", "vmem_16B", "vmem_store_16B", "scratch", "ds",
                       "ds_lds", "valu", "fp8_cvt", "fp4_cvt", "salu", "smem", "s_barrier", "s_waitcnt", "other"), 0)
    widths = []
    for _, mnem, _ in instrs:
        memory = re.match(r"^(global|buffer|flat)_(load|store|atomic)", mnem)
        if memory:
            c["vmem_" + memory.group(2)] += 1
            width = access_bytes(mnem)
            widths.append(width or 0)
            c["vmem_16B"] += width == 16
            c["vmem_store_16B"] += width == 16 and memory.group(2) == "store"
        elif mnem.startswith("scratch_"):
            c["scratch"] += 1
        elif mnem.startswith("ds_"):
            c["ds"] += 1
            # ds_bpermute/ds_swizzle move registers between lanes without touching LDS memory.
            c["ds_lds"] += not mnem.startswith(("ds_bpermute", "ds_permute", "ds_swizzle"))
        elif mnem.startswith("v_"):
            c["valu"] += 1
            c["fp8_cvt"] += mnem.startswith("v_cvt_pk_fp8_f32")
            c["fp4_cvt"] += mnem.startswith("v_cvt_scalef32_pk_fp4_f32")
        elif mnem.startswith("s_barrier"):
            c["s_barrier"] += 1
        elif mnem.startswith("s_waitcnt"):
            c["s_waitcnt"] += 1
        elif mnem.startswith(SMEM_PREFIXES):
            c["smem"] += 1
        elif mnem.startswith("s_"):
            c["salu"] += 1
        else:
            c["other"] += 1
    c["max_access_bytes"] = max(widths, default=0)
    c["total"] = len(instrs)
    c["code_bytes"] = instrs[-1][0] + instrs[-1][2] - instrs[0][0] if instrs else 0
    return c


def occupancy(vgpr_count, lds_bytes, workgroup_size, chip, wavefront_size=64):
    """Waves per SIMD allowed by VGPRs, by LDS, and the smaller (module docstring has the formula)."""
    alloc = max(VGPR_GRANULE, math.ceil(vgpr_count / VGPR_GRANULE) * VGPR_GRANULE)
    by_vgpr = min(MAX_WAVES_PER_SIMD, VGPRS_PER_LANE // alloc)
    if lds_bytes > 0:
        groups = LDS_PER_CU[chip] // (math.ceil(lds_bytes / LDS_GRANULE) * LDS_GRANULE)
        waves_per_group = math.ceil(workgroup_size / wavefront_size)
        by_lds = min(MAX_WAVES_PER_SIMD, groups * waves_per_group // SIMDS_PER_CU)
    else:
        by_lds = MAX_WAVES_PER_SIMD
    return {"by_vgpr": by_vgpr, "by_lds": by_lds, "waves_per_simd": min(by_vgpr, by_lds)}


# The static targets of a production kernel (issue 10): registers, no scratch, LDS and VGPRs
# leaving 8 waves per SIMD, and kv moved in 16-byte accesses (every store of an in-place kernel
# is a kv store). A store kernel (issue 11; its manifest names a cache layout) writes FP8 bytes
# and scales instead, narrower than 16 bytes, and must convert by the chip's v_cvt_pk_fp8_f32;
# one of the MXFP4 indexer cache (issue 21) writes e2m1 codes, converted by gfx950's
# v_cvt_scalef32_pk_fp4_f32 (gfx942 has no FP4 instruction: the rounding is written out).
MAX_VGPRS = 64
MXFP4_LAYOUT = "indexer_mxfp4"
FP4_CHIPS = ("gfx950",)
STATIC_TARGETS = (
    ("vgpr <= %d (AGPRs included)" % MAX_VGPRS, lambda r: r["vgpr"] <= MAX_VGPRS),
    ("no scratch", lambda r: r["scratch_bytes"] == 0 and r["scratch"] == 0 and r["spills"] == 0),
    ("8 waves per SIMD", lambda r: r["waves_per_simd"] == MAX_WAVES_PER_SIMD),
    ("16-byte stores", lambda r: r.get("store_kernel") or (r["vmem_store"] > 0 and r["vmem_store_16B"] == r["vmem_store"])),
    ("FP8 by v_cvt_pk_fp8_f32", lambda r: not r.get("store_kernel") or r.get("layout") == MXFP4_LAYOUT
     or (r["vmem_store"] > 0 and r["fp8_cvt"] > 0)),
    ("e2m1 by v_cvt_scalef32_pk_fp4_f32 on gfx950", lambda r: r.get("layout") != MXFP4_LAYOUT
     or (r["vmem_store"] > 0 and (r["chip"] not in FP4_CHIPS or r["fp4_cvt"] > 0))),
    ("no LDS access or barrier without LDS", lambda r: r["lds_bytes"] > 0 or (r["s_barrier"] == 0 and r["ds_lds"] == 0)),
)


def check_static(row):
    """The names of the static targets `row` misses (empty: all met)."""
    return [name for name, met in STATIC_TARGETS if not met(row)]


def _tool(name, *args):
    return subprocess.run([os.path.join(LLVM_BIN, name), *args], check=True, capture_output=True, text=True).stdout


def text_section_bytes(path):
    for line in _tool("llvm-readelf", "-S", "-W", path).splitlines():
        fields = line.replace("[", " ").replace("]", " ").split()
        if ".text" in fields:
            i = fields.index(".text")
            return int(fields[i + 4], 16)  # name, type, address, offset, size
    return 0


def report_object(path, manifest=None):
    """One row per kernel in the code object at `path`."""
    if manifest and "resources" in manifest:
        # dsv4-write-code-objects copied the note's figures for its kernel into the manifest.
        notes = {manifest["kernel"]: {"." + key: value for key, value in manifest["resources"].items()}}
    else:
        notes = parse_notes(_tool("llvm-readelf", "--notes", path))
    chip = (manifest or {}).get("chip") or next(iter(notes.values()))["target"].rsplit("--", 1)[-1].split(":")[0]
    code = parse_disassembly(_tool("llvm-objdump", "-d", f"--mcpu={chip}", path))
    text_bytes = text_section_bytes(path)
    rows = []
    for name, note in notes.items():
        counts = classify(code.get(name, []))
        # The launch's workgroup (manifest) where known, else the most the kernel was compiled for.
        launched = manifest and manifest.get("kernel") == name
        wg = manifest["workgroup_size"] if launched else note[".max_flat_workgroup_size"]
        occ = occupancy(note[".vgpr_count"], note[".group_segment_fixed_size"], wg, chip, note[".wavefront_size"])
        rows.append({"kernel": name, "file": os.path.basename(path), "chip": chip, "workgroup_size": wg,
                     "vgpr": note[".vgpr_count"], "agpr": note.get(".agpr_count", 0), "sgpr": note[".sgpr_count"],
                     "lds_bytes": note[".group_segment_fixed_size"],
                     "scratch_bytes": note[".private_segment_fixed_size"],
                     "spills": note.get(".vgpr_spill_count", 0) + note.get(".sgpr_spill_count", 0),
                     "wavefront_size": note[".wavefront_size"], "text_bytes": text_bytes,
                     "store_kernel": bool(launched and "layout" in manifest),
                     "layout": manifest.get("layout") if launched else None, **counts, **occ})
    return rows


COLUMNS = (("kernel", "kernel"), ("chip", "chip"), ("wg", "workgroup_size"), ("vgpr", "vgpr"), ("agpr", "agpr"),
           ("sgpr", "sgpr"), ("lds", "lds_bytes"), ("scr", "scratch_bytes"), ("ld", "vmem_load"),
           ("st", "vmem_store"), ("16B", "vmem_16B"), ("maxB", "max_access_bytes"), ("ds", "ds"), ("valu", "valu"),
           ("fp8", "fp8_cvt"), ("fp4", "fp4_cvt"),
           ("salu", "salu"), ("smem", "smem"), ("bar", "s_barrier"), ("wait", "s_waitcnt"), ("total", "total"),
           ("bytes", "code_bytes"), ("w/simd", "waves_per_simd"))


def format_table(rows):
    """Kernel name left-aligned, numbers right-aligned, each column as wide as its widest cell."""
    cells = [[title for title, _ in COLUMNS]] + [[str(r.get(key, "-")) for _, key in COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    return "\n".join(" ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
                     for row in cells)


def code_objects(objects_dir):
    """(hsaco path, its manifest or None), for every *.hsaco in the directory."""
    by_binary = {os.path.basename(b): m for m, b, _ in objects.manifests(objects_dir, objects.AMD_TARGET)}
    return [(p, by_binary.get(os.path.basename(p))) for p in sorted(glob.glob(os.path.join(objects_dir, "*.hsaco")))]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--objects", default="out", help="directory of *.hsaco + *.json manifests (default: out)")
    p.add_argument("--json", help="write the rows as JSON to this path")
    p.add_argument("--reference", action="store_true", help="add SPEC.md's static figures of the Triton reference")
    p.add_argument("--check", action="store_true", help="hold every kernel to the static targets; exit 1 on a miss")
    args = p.parse_args(argv)
    rows = [row for path, manifest in code_objects(args.objects) for row in report_object(path, manifest)]
    if not rows:
        print(f"no *.hsaco in {args.objects}")
        return 1
    shown = rows + ([REFERENCE] if args.reference else [])
    print(format_table(shown))
    print("w/simd: waves per SIMD from VGPRs and LDS (formula: python3 bench/amd_report.py --help)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(shown, f, indent=1)
    if not args.check:
        return 0
    missed = 0
    for row in rows:
        misses = check_static(row)
        missed += bool(misses)
        print(f"{row['kernel']} {row['chip']}: " + ("MISSED " + ", ".join(misses) if misses else "static targets met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
