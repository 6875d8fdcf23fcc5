"""Drives dsv4.library in one of the steps of library.test; prints what each lookup found."""
import dataclasses
import json
import shutil
import sys
import threading
from pathlib import Path

import dsv4
from dsv4 import library

CONFIG = dsv4.Config(mode="prefill", head_dim=128, rope_dim=32, kv_dtype="bf16", ratio=128,
                     rotate=False)
CHIP = "gfx942"
# The indexer store at 16 tokens a page, and its in-place twin (library.test builds both).
STORE = dsv4.Config(mode="decode", head_dim=128, layout="indexer", page_size=16)
TWIN = dataclasses.replace(STORE, layout=None, page_size=library.DEFAULT_PAGE_SIZE)
# What a lookup must never return for STORE or TWIN: same epilogue, other cache.
OTHERS = (dataclasses.replace(STORE, page_size=64), dataclasses.replace(STORE, layout="main"))
# The compress kernel of test/Runtime/Inputs/compress_f32.json, its store twin (the same
# epilogue and cache from kv rows) and the compress configurations that differ from it in one
# compress field.
COMPRESS = dsv4.Config(mode="compress", head_dim=512, rotate=False, layout="main",
                       overlap=True, state_block_size=64)
COMPRESS_TWIN = dataclasses.replace(COMPRESS, mode="decode", overlap=None, state_block_size=None)
COMPRESS_OTHERS = (dataclasses.replace(COMPRESS, overlap=False),
                   dataclasses.replace(COMPRESS, state_block_size=16),
                   dataclasses.replace(COMPRESS, page_size=16))


def found(config, **kwargs):
    """The manifest's kernel name find_kernel returns for `config`, or why there is none."""
    try:
        files = dsv4.find_kernel(config, CHIP, **kwargs)
    except dsv4.KernelNotFound as e:
        return "none: " + str(e).split(":")[0]
    m = dsv4.read_manifest(files.manifest)
    return f"{files.origin} {m['kernel']} {m.get('layout')} {m.get('page_size')} {m.get('fp8_type')}"


def manifest_of(config, **store):
    """A manifest dict of `config`'s epilogue, with the store keys given (Config.matches' view)."""
    return {"mode": config.mode, "head_dim": config.head_dim, "rope_dim": config.rope_dim,
            "kv_dtype": config.kv_dtype, "weight_dtype": config.weight_dtype,
            "ratio": config.ratio, "rotate": config.rotate, "eps": config.eps,
            "scale": config.effective_scale, **store}
step = sys.argv[1]

if step == "compile":
    # Threads race for a configuration nobody has compiled: exactly one compiles it.
    origins = []
    threads = [threading.Thread(target=lambda: origins.append(dsv4.find_kernel(CONFIG, CHIP).origin))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("origins", sorted(origins))
    files = dsv4.find_kernel(CONFIG, CHIP)
    print("again", files.origin, files.binary.name)
    m = dsv4.read_manifest(files.manifest)  # no driver, no shim
    print("manifest", m["kernel"], m["chip"], m["mode"], m["ratio"], m["rotate"], m["kv_dtype"])
elif step == "cached":
    print("cached", dsv4.find_kernel(CONFIG, CHIP).origin)
elif step == "copy":
    # A library folder holding the cached kernel; `python3 -m dsv4 --index` then indexes it.
    folder = Path(sys.argv[2])
    files = dsv4.find_kernel(CONFIG, CHIP, compile=False)
    folder.mkdir()
    for f in (files.binary, files.manifest):
        shutil.copy(f, folder)
elif step == "library":
    print("library", dsv4.find_kernel(CONFIG, CHIP, compile=False).origin)
elif step == "load":
    # Through the fake HIP: one module per (device, configuration), however often it is asked.
    a = dsv4.get_kernel(CONFIG, CHIP)
    b = dsv4.get_kernel(CONFIG, CHIP)
    print("load", a is b, a.name, a.config.ratio, a.config.rotate, a.config.mode)
    library.check_kernel(a, CONFIG, name="dsv4_prefill_r128_norot_d128_r32_bf16")
    # Every fact of the configuration, one at a time; then a kernel of another name.
    for other in (dataclasses.replace(CONFIG, ratio=4), dataclasses.replace(CONFIG, rotate=True),
                  dataclasses.replace(CONFIG, mode="decode"),
                  dataclasses.replace(CONFIG, head_dim=256),
                  dataclasses.replace(CONFIG, rope_dim=64),
                  dataclasses.replace(CONFIG, kv_dtype="f16"),
                  dataclasses.replace(CONFIG, weight_dtype="bf16"),
                  dataclasses.replace(CONFIG, eps=1e-5)):
        try:
            library.check_kernel(a, other)
            print("check: accepted", other)
        except ValueError as e:
            print("check:", e)
    try:
        library.check_kernel(a, CONFIG, name="dsv4_prefill_r4_norot_d128_r32_bf16")
    except ValueError as e:
        print("check:", e)
elif step == "swapped":
    # The ratio-4 code object (argv[2]) put in place of CONFIG's, its side .json and the index
    # left as they were, in the library or cache this environment names.
    files = dsv4.find_kernel(CONFIG, CHIP, compile=False)
    shutil.copy(sys.argv[2], files.binary)
    try:
        dsv4.get_kernel(CONFIG, CHIP)
        print("swapped: accepted")
    except ValueError as e:
        print("swapped", files.origin, e)
elif step == "missing":
    try:
        dsv4.find_kernel(CONFIG, CHIP)
    except dsv4.KernelNotFound as e:
        print("missing", e)
elif step == "bad-index":
    try:
        dsv4.find_kernel(CONFIG, CHIP)
    except ValueError as e:
        print("bad-index", e)
elif step == "bad":
    try:
        dsv4.Config(mode="train", head_dim=128, kv_dtype="f64")
    except ValueError as e:
        print("bad", e)
elif step == "store-config":
    # Matching is exact on the store fields, both ways.
    in_place = manifest_of(STORE)
    indexer16 = manifest_of(STORE, layout="indexer", page_size=16)
    for config in (TWIN, STORE, *OTHERS):
        print("matches", config, [name for name, m in (("in-place", in_place),
                                                       ("indexer16", indexer16))
                                  if config.matches(m)])
    # An index entry of an in-place kernel (write_index) has layout and page_size null.
    print("entry", TWIN.matches(dict(in_place, layout=None, page_size=None)),
          STORE.matches(dict(in_place, layout=None, page_size=None)))
    for m in (indexer16, in_place):
        c = dsv4.Config.from_manifest(m)
        print("from_manifest", c.layout, c.page_size, c.matches(m), c.key() == STORE.key())
    keys = {c.key() for c in (TWIN, STORE, *OTHERS)}
    print("keys", len(keys), STORE.key() == dataclasses.replace(STORE).key())
    print("gen", " ".join(STORE.gen_args(CHIP)))
    print("gen in-place", " ".join(TWIN.gen_args(CHIP)))
    try:
        STORE.gen_args()
    except ValueError as e:
        print("gen no chip:", e)
    for bad in (dict(layout="paged"), dict(layout="main", page_size=48),
                dict(layout="main", page_size=True), dict(page_size=16),
                dict(layout="main", out_loc_dtype="i16"), dict(out_loc_dtype="i32")):
        try:
            dsv4.Config(mode="decode", head_dim=512, **bad)
            print("accepted", bad)
        except ValueError as e:
            print("bad:", str(e).split(": ", 1)[1])
elif step == "compress-config":
    m = manifest_of(COMPRESS, layout="main", page_size=64, overlap=True, state_block_size=64)
    twin = manifest_of(COMPRESS_TWIN, layout="main", page_size=64)
    for config in (COMPRESS, COMPRESS_TWIN, *COMPRESS_OTHERS):
        print("matches", config, [name for name, manifest in (("compress", m), ("store", twin))
                                  if config.matches(manifest)])
    c = dsv4.Config.from_manifest(m)
    print("from_manifest", c.mode, c.overlap, c.state_block_size, c == COMPRESS)
    # An index entry of a store kernel (write_index) has overlap and state_block_size null.
    print("entry", COMPRESS_TWIN.matches(dict(twin, overlap=None, state_block_size=None)))
    print("keys", len({c.key() for c in (COMPRESS, COMPRESS_TWIN, *COMPRESS_OTHERS)}))
    print("gen", " ".join(COMPRESS.gen_args(CHIP)))
    try:
        dsv4.Config.from_manifest({k: v for k, v in m.items() if k != "state_block_size"})
    except ValueError as e:
        print("lacks:", e)
    compress = dict(mode="compress", layout="main", overlap=True, state_block_size=64)
    for bad in (dict(compress, layout=None), dict(compress, state_block_size=48),
                dict(compress, state_block_size=1 << 21), dict(compress, overlap="yes"),
                dict(compress, kv_dtype="bf16"), dict(mode="compress", layout="main"),
                dict(mode="decode", overlap=False), dict(mode="decode", state_block_size=64)):
        try:
            dsv4.Config(head_dim=512, **bad)
            print("accepted", bad)
        except ValueError as e:
            print("bad:", str(e).split(": ", 1)[1])
elif step == "compress-load":
    # The compress kernel from a library's store/ subfolder: found and loaded for its own
    # configuration only, and refused for a call of another overlap or block size.
    for config in (COMPRESS, COMPRESS_TWIN, *COMPRESS_OTHERS):
        print("found", found(config, compile=False))
    kernel = dsv4.get_kernel(COMPRESS, CHIP)
    print("load", kernel.name, kernel.mode, kernel.overlap, kernel.state_block_size,
          kernel.config == COMPRESS)
    for config in COMPRESS_OTHERS[:2]:
        try:
            library.check_kernel(kernel, config)
        except ValueError as e:
            print("check:", e)
elif step == "store-library":
    # A library folder (in-place kernels) and its store/ subfolder, each with its index.json.
    for config in (STORE, TWIN, *OTHERS):
        print("found", found(config, compile=False))
elif step == "store-compile":
    # A store configuration nobody has built: compiled into the cache with the chip's FP8 type.
    print("compiled", found(STORE), "|", found(STORE))
    print("twin", found(TWIN, compile=False))
elif step == "store-mxfp4":
    mxfp4 = dataclasses.replace(STORE, mode="prefill", layout="indexer_mxfp4")
    print("compiled", found(mxfp4), "|", found(mxfp4))
    m = dsv4.read_manifest(dsv4.find_kernel(mxfp4, CHIP).manifest)
    path = Path(sys.argv[2]) / "fp8-without-type.json"
    path.write_text(json.dumps(dict(m, layout="indexer")))
    try:
        dsv4.read_manifest(path)
        print("fp8 layout without fp8_type: accepted")
    except ValueError as e:
        print("fp8 layout without fp8_type:", e)
elif step == "store-load":
    # Through the fake HIP: the store kernel by its configuration, refusing the other calls.
    kernel = dsv4.get_kernel(STORE, CHIP)
    twin = dsv4.get_kernel(TWIN, CHIP)
    print("load", kernel is dsv4.get_kernel(STORE, CHIP), kernel.name, kernel.page_size,
          twin.name, twin.page_size)
    library.check_kernel(kernel, STORE)
    library.check_kernel(twin, TWIN)
    for k, config in ((kernel, TWIN), (kernel, OTHERS[0]), (kernel, OTHERS[1]), (twin, STORE),
                      (kernel, dataclasses.replace(STORE, scale=0.5))):
        try:
            library.check_kernel(k, config)
            print("check: accepted", config)
        except ValueError as e:
            print("check:", e)
