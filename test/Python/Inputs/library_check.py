"""Drives dsv4.library in one of the steps of library.test; prints what each lookup found."""
import dataclasses
import shutil
import sys
import threading
from pathlib import Path

import dsv4
from dsv4 import library

CONFIG = dsv4.Config(mode="prefill", head_dim=128, rope_dim=32, kv_dtype="bf16", ratio=128,
                     rotate=False)
CHIP = "gfx942"
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
    library.check_kernel(a, CONFIG)
    for other in (dataclasses.replace(CONFIG, ratio=4), dataclasses.replace(CONFIG, rotate=True),
                  dataclasses.replace(CONFIG, mode="decode")):
        try:
            library.check_kernel(a, other)
            print("check: accepted", other)
        except ValueError as e:
            print("check:", e)
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
