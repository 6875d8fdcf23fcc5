"""Drives dsv4.library on damaged and hostile input in one step of library-damage.test; prints
what each lookup did. A lookup that hangs is reported after 10 s, and memory is capped, so that
the old code's failures (a FIFO read forever, /dev/zero read into memory) show as lines too.

  library_damage.py STEP WORKDIR
"""
import dataclasses
import json
import os
import resource
import shutil
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


def step_space(work):
    cache = work / "a cache} dir=x"
    use(cache=cache, bin_dir=os.environ["TOOLS"])
    print("space:", origin(), "then", origin(compile=False))


def modes(root):
    """The permission bits of the folders and files under `root`, as sets of octal strings."""
    paths = [root, *root.rglob("*")]
    return ({oct(p.stat().st_mode & 0o777) for p in paths if p.is_dir()},
            {oct(p.stat().st_mode & 0o777) for p in paths if p.is_file()})


def step_modes(work):
    umask = int(sys.argv[3], 8)
    os.umask(umask)
    use(cache=work / "cache", bin_dir=os.environ["TOOLS"])
    print("compile:", origin())
    folders, files = modes(work / "cache")
    print(f"umask {umask:03o} cache folders {sorted(folders)} files {sorted(files)}")
    index = library_folder(work / "lib")
    print(f"umask {umask:03o} index {oct(index.stat().st_mode & 0o777)}")


def cache_entry():
    """The cache folder of CONFIG (compiled into it first)."""
    files = dsv4.find_kernel(CONFIG, CHIP)
    return files.binary.parent


def damage_entry(entry, case):
    binary, manifest = entry / BINARY, entry / MANIFEST
    if case == "empty-binary":
        binary.write_bytes(b"")
    elif case == "no-binary":
        binary.unlink()
    elif case == "fifo-binary":
        binary.unlink()
        os.mkfifo(binary)
    elif case == "garbage-manifest":
        manifest.write_text("{\"format\": ")
    elif case == "fifo-manifest":
        manifest.unlink()
        os.mkfifo(manifest)
    elif case == "traversal-manifest":
        manifest.write_text(json.dumps(dict(manifest_dict(), binary="../../../../etc/passwd")))
    elif case == "no-manifest":
        manifest.unlink()
    elif case == "entry-file":
        shutil.rmtree(entry)
        entry.write_text("")


ENTRY_CASES = ("empty-binary", "no-binary", "fifo-binary", "garbage-manifest", "fifo-manifest",
               "traversal-manifest", "no-manifest", "entry-file")


def step_damaged_cache(work):
    use(cache=work / "cache", bin_dir=os.environ["TOOLS"])
    entry = cache_entry()
    for case in ENTRY_CASES:
        damage_entry(entry, case)
        print(case, "lookup:", origin(compile=False))
        print(case, "rebuilt:", origin(), "then", origin(compile=False),
              (entry / BINARY).stat().st_size > 0)
    print("left beside:", sorted(p.name for p in entry.parent.iterdir()))


def step_damaged_load(work):
    # Through the fake HIP: a code object the runtime refuses is compiled again, once.
    use(cache=work / "cache", bin_dir=os.environ["TOOLS"])
    entry = cache_entry()
    good = (entry / BINARY).read_bytes()
    (entry / BINARY).write_bytes(b"not a code object")
    kernel = outcome(lambda: dsv4.get_kernel(CONFIG, CHIP).name)
    print("load rebuilt:", kernel, (entry / BINARY).read_bytes() == good)
    # Another kernel's code object in the entry (its manifest intact): compiled again too.
    library._loaded.clear()
    other = dsv4.find_kernel(dataclasses.replace(CONFIG, ratio=4), CHIP).binary
    (entry / BINARY).write_bytes(other.read_bytes())
    kernel = outcome(lambda: dsv4.get_kernel(CONFIG, CHIP).name)
    print("swapped rebuilt:", kernel, (entry / BINARY).read_bytes() == good)
    # With no compiler to rebuild it, the error names the file.
    library._loaded.clear()
    (entry / BINARY).write_bytes(b"not a code object")
    use(cache=work / "cache")
    print("load damaged:", outcome(lambda: dsv4.get_kernel(CONFIG, CHIP).name))


def step_fingerprint(work):
    tools = Path(os.environ["TOOLS"])
    other = work / "other-tools"
    other.mkdir()
    for name in ("dsv4-gen", "dsv4-opt"):
        shutil.copy2(tools / name, other / name)
    with open(other / "dsv4-opt", "ab") as f:  # another build of dsv4-opt (it still runs)
        f.write(b"\0")
    use(cache=work / "cache", bin_dir=tools)
    print("fingerprint first:", origin(), "again", origin())
    use(cache=work / "cache", bin_dir=other)
    print("fingerprint changed:", origin(), "again", origin())
    use(cache=work / "cache", bin_dir=tools)
    print("fingerprint back:", origin())
    print("fingerprint folders:", len(list((work / "cache").iterdir())))
    # With no compiler to tell a current entry by, the newest serves.
    use(cache=work / "cache")
    print("fingerprint none:", origin())


def step_failed(work):
    tools = Path(os.environ["TOOLS"])
    use(cache=work / "cache-gen", bin_dir=tools)
    # The main layout stores 512 channels: dsv4-gen refuses D = 128.
    bad = dataclasses.replace(CONFIG, layout="main", page_size=64)
    print("gen refused:", origin(config=bad).split(": error")[0])
    print("gen refused left:", (work / "cache-gen").exists())
    broken = work / "broken-tools"
    broken.mkdir()
    (broken / "dsv4-gen").symlink_to(tools / "dsv4-gen")
    (broken / "dsv4-opt").write_text(  # a dsv4-opt that compiles nothing
        "#!/bin/sh\n[ \"$1\" = --version ] && exec echo broken\necho 'dsv4-opt: broken' >&2\nexit 1\n")
    (broken / "dsv4-opt").chmod(0o755)
    use(cache=work / "cache-opt", bin_dir=broken)
    print("opt failed:", origin())
    print("opt failed left:", (work / "cache-opt").exists())
    (broken / "dsv4-opt").unlink()
    (broken / "dsv4-opt").write_bytes(b"\x7fELF not a program")
    (broken / "dsv4-opt").chmod(0o755)
    use(cache=work / "cache-exec", bin_dir=broken)
    print("opt not a program:", origin())
    not_a_folder = work / "cache-file"
    not_a_folder.write_text("")
    use(cache=not_a_folder, bin_dir=tools)
    print("unwritable:", origin())


def step_warm(work):
    use(cache=work / "cache", bin_dir=os.environ["TOOLS"])
    print("warm:", origin())


def step_lookup(work):
    """The cache step_warm filled, looked up without compiling (by another user)."""
    use(cache=work / "cache", bin_dir=os.environ["TOOLS"])
    print("lookup:", origin(compile=False))


STEPS = {"index": step_index, "config": step_config, "chip": step_chip, "space": step_space,
         "modes": step_modes, "damaged-cache": step_damaged_cache,
         "damaged-load": step_damaged_load, "fingerprint": step_fingerprint,
         "failed": step_failed, "warm": step_warm, "lookup": step_lookup}

if __name__ == "__main__":
    STEPS[sys.argv[1]](Path(sys.argv[2]))
