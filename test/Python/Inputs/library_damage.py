"""Drives dsv4.library on damaged and hostile input in one step of library-damage.test; prints
what each lookup did. A lookup that hangs is reported after 10 s, and memory is capped, so that
the old code's failures (a FIFO read forever, /dev/zero read into memory) show as lines too.

  library_damage.py STEP WORKDIR
"""
import json
import os
import resource
import signal
import sys
from pathlib import Path

import dsv4
from dsv4 import library

CHIP = "gfx942"
CONFIG = dsv4.Config(mode="prefill", head_dim=128, rope_dim=32, kv_dtype="bf16", ratio=128,
                     rotate=False)
BINARY = "dsv4_prefill_r128_norot_d128_r32_bf16.gfx942.hsaco"
MANIFEST = "dsv4_prefill_r128_norot_d128_r32_bf16.gfx942.json"


class Hang(Exception):
    pass


def on_alarm(signum, frame):
    raise Hang()


signal.signal(signal.SIGALRM, on_alarm)
# The old code read /dev/zero until the machine's memory ran out.
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))


def outcome(fn):
    """What fn() did, in one line: its result, the error it raised, or that it hung."""
    signal.alarm(10)
    try:
        return f"returned {fn()}"
    except Hang:
        return "hang"
    except (ValueError, dsv4.KernelNotFound, dsv4.Dsv4Error) as e:
        return f"{type(e).__name__}: {e}"
    except Exception as e:  # what the old code raised; the check lines want none of it
        return f"unexpected {type(e).__name__}: {e}"
    finally:
        signal.alarm(0)


def origin(config=CONFIG, chip=CHIP, **kwargs):
    return outcome(lambda: dsv4.find_kernel(config, chip, **kwargs).origin)


def use(cache=None, bin_dir=None, kernel_dir=None):
    """Points the library at these folders (a missing one: none of that kind)."""
    work = Path(sys.argv[2])
    os.environ["DSV4_CACHE_DIR"] = str(cache or work / "no-cache")
    os.environ["DSV4_BIN_DIR"] = str(bin_dir or work / "no-compiler")
    os.environ["DSV4_KERNEL_DIR"] = str(kernel_dir or work / "no-library")


def manifest_dict():
    """A manifest of CONFIG as dsv4-opt writes it (the keys library.read_manifest reads)."""
    return {"format": library.MANIFEST_FORMAT, "kernel": BINARY.split(".")[0], "binary": BINARY,
            "chip": CHIP, "mode": "prefill", "rotate": False, "head_dim": 128, "rope_dim": 32,
            "ratio": 128, "eps": 1e-6, "scale": 0.08838834764831845, "kv_dtype": "bf16",
            "weight_dtype": "f32"}


def library_folder(folder):
    """A library of one kernel (its binary is never loaded here) with its index; the index."""
    folder.mkdir(parents=True)
    (folder / BINARY).write_bytes(b"\x7fELF")
    (folder / MANIFEST).write_text(json.dumps(manifest_dict()))
    library.write_index(folder)
    return folder / library.INDEX_NAME


def damage_index(index, case):
    """Replaces the library index at `index` with its damaged form `case`."""
    data = json.loads(index.read_text())
    entry = data["kernels"][0]
    if case == "fifo":
        index.unlink()
        os.mkfifo(index)
        return
    if case == "dev-zero":
        index.unlink()
        index.symlink_to("/dev/zero")
        return
    if case == "folder":
        index.unlink()
        index.mkdir()
        return
    if case == "nested":
        index.write_text("[" * 100000 + "]" * 100000)
        return
    if case == "huge":
        index.write_text(" " * (9 << 20) + json.dumps(data))
        return
    if case == "missing-key":
        del entry["mode"]
    elif case == "eps-string":
        entry["eps"] = "1e-6"
    elif case == "head-dim-string":
        entry["head_dim"] = "128"
    elif case == "rotate-string":
        entry["rotate"] = "false"
    elif case == "kernels-object":
        data["kernels"] = {"0": entry}
    elif case == "entry-list":
        data["kernels"] = [[entry]]
    elif case == "binary-traversal":
        entry["binary"] = "../../../../etc/passwd"
    elif case == "manifest-traversal":
        entry["manifest"] = "../outside/" + MANIFEST
    elif case == "binary-absolute":
        entry["binary"] = "/etc/passwd"
    index.write_text(json.dumps(data))


INDEX_CASES = ("missing-key", "eps-string", "head-dim-string", "rotate-string", "kernels-object",
               "entry-list", "nested", "huge", "fifo", "dev-zero", "folder", "binary-traversal",
               "manifest-traversal", "binary-absolute")


def step_index(work):
    # A manifest outside the library, which a traversing index entry would hand out.
    library_folder(work / "outside")
    for case in INDEX_CASES:
        folder = work / case / "lib"
        damage_index(library_folder(folder), case)
        use(kernel_dir=folder)
        print(case, "find:", origin(compile=False))
        print(case, "list:", outcome(lambda: [m["kernel"] for m in library.library_kernels(CHIP)]))
    # An index lists only kernels whose code object is there.
    folder = work / "no-binary"
    folder.mkdir()
    (folder / MANIFEST).write_text(json.dumps(manifest_dict()))
    print("no-binary index:", outcome(lambda: library.write_index(folder)))


def step_config(work):
    class Dim:  # a numpy or torch integer: it has __index__
        def __index__(self):
            return 128
    base = dict(mode="decode", head_dim=128)
    cases = (("rotate-string", dict(rotate="false")), ("head-dim-string", dict(head_dim="128")),
             ("head-dim-negative", dict(head_dim=-128)), ("head-dim-huge", dict(head_dim=8192)),
             ("head-dim-float", dict(head_dim=128.0)), ("rope-odd", dict(rope_dim=33)),
             ("rope-over-d", dict(rope_dim=256)), ("ratio-negative", dict(ratio=-4)),
             ("ratio-huge", dict(ratio=1 << 70)), ("ratio-string", dict(ratio="4")),
             ("eps-string", dict(eps="1e-6")), ("eps-huge", dict(eps=1e300)),
             ("eps-underflow", dict(eps=1e-60)), ("eps-nan", dict(eps=float("nan"))),
             ("eps-bool", dict(eps=True)), ("scale-inf", dict(scale=float("inf"))),
             ("scale-no-rotate", dict(scale=0.5, rotate=False)),
             ("mode-list", dict(mode=["decode"])), ("kv-none", dict(kv_dtype=None)),
             ("layout-int", dict(layout=1)),
             ("page-huge", dict(layout="indexer", page_size=1 << 21)),
             ("page-negative", dict(layout="indexer", page_size=-64)))
    for label, fields in cases:
        print(f"config {label}:", outcome(lambda: dsv4.Config(**{**base, **fields}).key()))
    # The limits themselves are valid, and an integer of another type keys as an int.
    print("config limits:", outcome(lambda: dsv4.Config(
        mode="decode", head_dim=4096, rope_dim=4096, ratio=(1 << 31) - 1, layout="indexer",
        page_size=1 << 20).gen_args(CHIP)[-2]))
    print("config index:", dsv4.Config(mode="decode", head_dim=Dim()).key() ==
          dsv4.Config(mode="decode", head_dim=128).key())


def step_chip(work):
    use(cache=work / "cache", bin_dir=os.environ["TOOLS"])
    for chip in ("gfx942 toolkit=/x", "../../gfx942", "", "sm_80", 942):
        print(f"chip {chip!r}:", origin(chip=chip))
    print("chip folders left:", sorted(str(p.relative_to(work)) for p in work.rglob("*")))


STEPS = {"index": step_index, "config": step_config, "chip": step_chip}

if __name__ == "__main__":
    STEPS[sys.argv[1]](Path(sys.argv[2]))
