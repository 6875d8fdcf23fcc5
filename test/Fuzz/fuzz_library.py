#!/usr/bin/env python3
"""Fuzzer of dsv4.library: kernel library indexes, JIT cache folders, configurations and chips.

Each input is one of:
  index   a library folder whose index.json (or a manifest) is mutated: JSON values of other
          types, keys deleted, file names that leave the folder, bytes flipped or cut, deep
          nesting, a FIFO, a link to /dev/zero, a folder; sometimes rewritten by write_index
          under a random umask;
  cache   a compiled cache entry so damaged (its code object, manifest or folder), looked up
          without compiling, then sometimes loaded (through the fake HIP when given) with the
          compiler at hand, under a random umask;
  config  a dsv4.Config of field values of any type and size;
  chip    a lookup for a chip name (a known one or an injection) into a cache folder whose name
          holds spaces, braces and '=', sometimes compiling.
It fails on an exception other than ValueError/KernelNotFound (KeyError, TypeError,
struct.error, RecursionError, MemoryError: memory is capped), a lookup that hangs, an error that
does not name the damaged file, a file handed out from outside its library or cache folder, a
damaged cache entry that is not rebuilt, a Config that accepts a value of another type or
outside the compiler's limits (or one dsv4-gen refuses), an unknown chip that reaches the disk,
files or folders that ignore the umask, and a failed lookup that leaves something behind.

  fuzz_library.py --tools DIR [--runs N] [--seed S] [--input I] [--keep-going]
                  [--runtime-lib L --fake-hip H]

Input I of seed S is the same wherever it runs: --input I replays that one alone.
"""
import argparse
import contextlib
import copy
import dataclasses
import json
import math
import os
import random
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

CHIP = "gfx942"
TARGETS = ("index",) * 5 + ("cache",) * 3 + ("config",) * 3 + ("chip",)
MEMORY_CAP = 2 << 30  # /dev/zero read into memory fails fast instead of taking the machine
SECONDS_PER_INPUT = 30
UMASKS = (0o022, 0o077, 0o002, 0o027, 0o000)


class Failure(Exception):
    """What an input broke, in one line."""


class Hang(Exception):
    pass


def on_alarm(signum, frame):
    raise Hang()


class Index:  # an integer of another type (numpy, torch): it has __index__
    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return f"Index({self.value})"


TRAVERSALS = ["../../../../etc/passwd", "/etc/passwd", "../outside/outside.json", "a/b", ".",
              "..", "", "x\0y", "index.json"]
ANY_VALUE = [None, True, False, 0, -1, 1, 3, 64, 128, 4096, 8192, 1 << 20, 1 << 21, 1 << 31,
             1 << 64, -(1 << 63), 0.0, -1e-6, 1e-6, 1e-46, 3.5e38, 1e308, float("inf"),
             float("nan"), "", "x", "128", "false", "decode", "gfx942", "indexer", [], {},
             [128], {"a": 1}, *TRAVERSALS]


def random_value(rng):
    """A JSON value of any type (a fresh one: later changes must not reach ANY_VALUE)."""
    if rng.random() < 0.05:  # nested, not too deep for json.dumps (files nest deeper)
        depth = rng.choice((10, 500))
        return json.loads("[" * depth + "]" * depth)
    return copy.deepcopy(rng.choice(ANY_VALUE))


def mutate_json(rng, doc):
    """`doc` with 1-3 changes at random places: a key deleted, a value replaced by one of any
    type, an entry repeated."""
    for _ in range(rng.randint(1, 3)):
        path = [doc]
        while isinstance(path[-1], (dict, list)) and path[-1] and rng.random() < 0.85:
            container = path[-1]
            key = rng.choice(list(container)) if isinstance(container, dict) \
                else rng.randrange(len(container))
            path.append(key)
            path.append(container[key])
        if len(path) < 3:
            return random_value(rng)
        container, key = path[-3], path[-2]
        kind = rng.randrange(3)
        if kind == 0:
            del container[key]
        elif kind == 1 or not isinstance(container, list):
            container[key] = random_value(rng)
        else:
            container.append(json.loads(json.dumps(container[key])))
    return doc


def mutate_file(rng, path):
    """Damages the JSON file `path` (a regular file, not a link): its document, its bytes, or
    what kind of file it is."""
    kind = rng.randrange(10)
    try:
        doc = json.loads(path.read_bytes())
    except (ValueError, RecursionError):  # damaged by an earlier change: its bytes, then
        kind = max(kind, 4)
    if kind < 4:
        path.write_text(json.dumps(mutate_json(rng, doc)))
    elif kind == 4:
        data = bytearray(path.read_bytes())
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
    elif kind == 5:
        data = path.read_bytes()
        path.write_bytes(data[:rng.randrange(len(data) + 1)])
    else:
        path.unlink()
        if kind == 6:
            os.mkfifo(path)
        elif kind == 7:
            path.symlink_to(rng.choice(("/dev/zero", "/dev/urandom", "missing", path)))
        elif kind == 8:
            path.mkdir()
        else:
            depth = rng.choice((1000, 100000))
            path.write_text("[" * depth + "]" * depth if rng.random() < 0.8
                            else " " * (9 << 20) + "{}")


def under_asan():
    """Whether AddressSanitizer is loaded (the sanitized shim, LD_PRELOAD): its shadow memory
    needs terabytes of address space, so RLIMIT_AS would make every mapping fail; such a run caps
    malloc through ASAN_OPTIONS (malloc_limit_mb, allocator_may_return_null) instead."""
    with open("/proc/self/maps") as maps:
        return "libasan" in maps.read()


UNDER_ASAN = under_asan()


@contextlib.contextmanager
def bounded(seconds, cap_memory):
    """An alarm after `seconds`; memory capped (for code that starts no compiler)."""
    limits = resource.getrlimit(resource.RLIMIT_AS)
    cap_memory = cap_memory and not UNDER_ASAN
    if cap_memory:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, limits[1]))
    signal.alarm(seconds)
    try:
        yield
    except Hang:
        raise Failure(f"hung for {seconds} s") from None
    finally:
        signal.alarm(0)
        if cap_memory:
            resource.setrlimit(resource.RLIMIT_AS, limits)


def expect_error(library, fn, *names, also=()):
    """fn()'s result, or None when it raised ValueError or KernelNotFound (or one of `also`)
    naming one of `names` (paths); a Failure for any other exception or an error that names none
    of them."""
    try:
        return fn()
    except (ValueError, library.KernelNotFound, *also) as e:
        if names and not any(str(name) in str(e) for name in names):
            raise Failure(f"the error names none of {[str(n) for n in names]}: {e}") from None
        return None
    except (Failure, Hang):
        raise
    except BaseException as e:
        raise Failure(f"{type(e).__name__}: {e}\n{traceback.format_exc()}") from None


def inside(path, folder):
    """Whether `path`, links resolved, lies in `folder` (the cache has no links)."""
    return os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)


def named_in(path, folder):
    """Whether `path` names a file of `folder` itself (a library may hold links; its index may
    not name ../x)."""
    path = os.path.normpath(path)
    return os.path.dirname(path) == os.path.normpath(folder) and \
        os.path.basename(path) not in ("", ".", "..")


def cache_name(rng):
    """A folder name with what a pass option must not see pasted: spaces, braces, '='."""
    return "c" + "".join(rng.choice([" ", "}", "{", "=", "\"", "'", ",", "x y=z", "\\", "$HOME",
                                     "*", ":", "a"]) for _ in range(rng.randint(0, 4)))


def check_modes(root, umask, what):
    """Every folder and file under `root` (root included) has the umask's permissions."""
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        want = (0o777 if stat.S_ISDIR(info.st_mode) else 0o666) & ~umask
        if info.st_mode & 0o777 != want:
            raise Failure(f"{what} '{path}' has mode {info.st_mode & 0o777:03o}, the umask "
                          f"{umask:03o} gives {want:03o}")


class Fuzzer:
    def __init__(self, args, work):
        import dsv4
        from dsv4 import library
        self.args, self.work, self.dsv4, self.library = args, work, dsv4, library
        self.config = dsv4.Config(mode="decode", head_dim=128, rope_dim=64, ratio=4)
        self.others = [dataclasses.replace(self.config, kv_dtype="bf16"),
                       dataclasses.replace(self.config, mode="prefill", ratio=128, rotate=False)]
        self.manifests = self.compile_manifests()
        # The manifest a traversing file name would reach: outside every library folder.
        outside = work / "outside"
        outside.mkdir()
        self.outside = outside / "outside.json"
        self.outside.write_text(json.dumps(dict(self.manifests[0], kernel="dsv4_outside")))
        self.pristine = self.compile_pristine()

    def compile_manifests(self):
        """The real manifests of three configurations (the index target's library)."""
        folder = self.work / "manifests"
        self.use(cache=self.work / "manifest-cache", bin_dir=self.args.tools)
        manifests = []
        for config in (self.config, *self.others):
            files = self.dsv4.find_kernel(config, CHIP)
            manifests.append(json.loads(files.manifest.read_text()))
            folder.mkdir(exist_ok=True)
            shutil.copy(files.binary, folder)
        self.binaries = folder
        return manifests

    def compile_pristine(self):
        """The cache entry of self.config: (its cache root, the entry relative to that root)."""
        root = self.work / "pristine"
        self.use(cache=root, bin_dir=self.args.tools)
        entry = self.dsv4.find_kernel(self.config, CHIP).binary.parent
        return root, entry.relative_to(root)

    def use(self, cache=None, bin_dir=None, kernel_dir=None):
        os.environ["DSV4_CACHE_DIR"] = str(cache or self.work / "no-cache")
        os.environ["DSV4_BIN_DIR"] = str(bin_dir or self.work / "no-compiler")
        os.environ["DSV4_KERNEL_DIR"] = str(kernel_dir or self.work / "no-library")
        self.library._loaded.clear()

    # -- index ----------------------------------------------------------------------------------
    def fuzz_index(self, rng, folder):
        """A library of three kernels and its index, damaged, then looked up and listed."""
        library = self.library
        lib = folder / "lib"
        lib.mkdir()
        for m in self.manifests:
            shutil.copy(self.binaries / m["binary"], lib)
            (lib / m["binary"].replace(".hsaco", ".json")).write_text(json.dumps(m))
        umask = rng.choice(UMASKS)
        old = os.umask(umask)
        try:
            library.write_index(lib)
        finally:
            os.umask(old)
        written = (lib / library.INDEX_NAME).stat().st_mode & 0o777  # checked last
        manifests = sorted(lib.glob("dsv4_*.json"))
        for _ in range(rng.randint(1, 2)):
            path = lib / library.INDEX_NAME if rng.random() < 0.6 else rng.choice(manifests)
            if path.is_file() and not path.is_symlink():
                mutate_file(rng, path)
        self.use(kernel_dir=lib)
        with bounded(SECONDS_PER_INPUT, cap_memory=True):
            found = expect_error(library, lambda: self.dsv4.find_kernel(
                rng.choice([self.config, *self.others]), CHIP, compile=False), lib)
            if found is not None:
                for path in (found.binary, found.manifest):
                    if not named_in(path, lib):
                        raise Failure(f"the lookup handed out '{path}', outside '{lib}'")
            listed = expect_error(library, lambda: library.library_kernels(CHIP), lib)
            for m in listed or []:
                if m["kernel"] == "dsv4_outside":
                    raise Failure(f"library_kernels read '{self.outside}', outside '{lib}'")
            if rng.random() < 0.1:  # writing may fail as the system says (index.json a folder)
                expect_error(library, lambda: library.write_index(lib), lib, also=(OSError,))
        if written != 0o666 & ~umask:
            raise Failure(f"write_index wrote mode {written:03o}, the umask {umask:03o} gives "
                          f"{0o666 & ~umask:03o}")

    # -- cache ----------------------------------------------------------------------------------
    def fuzz_cache(self, rng, folder):
        """The pristine cache entry, damaged; looked up, then sometimes compiled and loaded."""
        library = self.library
        root = folder / cache_name(rng)
        shutil.copytree(self.pristine[0], root, symlinks=True)
        entry = root / self.pristine[1]
        for _ in range(rng.randint(1, 3)):
            self.damage_entry(rng, entry)
        self.use(cache=root, bin_dir=self.args.tools)
        library._compiler()  # its fingerprint runs dsv4-opt: before memory is capped
        with bounded(SECONDS_PER_INPUT, cap_memory=True):
            found = expect_error(library, lambda: self.dsv4.find_kernel(
                self.config, CHIP, compile=False), entry)
        if found is not None:
            for path in (found.binary, found.manifest):
                if not inside(path, entry):
                    raise Failure(f"the cache handed out '{path}', outside '{entry}'")
        if rng.random() < 0.15:
            self.rebuild(rng, entry)

    def damage_entry(self, rng, entry):
        kind = rng.randrange(8)
        if not entry.is_dir() or entry.is_symlink():
            return
        files = sorted(entry.iterdir())
        if kind < 3 and files:
            path = rng.choice(files)
            if path.suffix == ".json" and path.is_file() and not path.is_symlink():
                mutate_file(rng, path)
            elif path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                cut = rng.randrange(len(data) + 1)
                path.write_bytes(data[:cut] if rng.random() < 0.5 else
                                 bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
        elif kind == 3 and files:
            path = rng.choice(files)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            if rng.random() < 0.5:
                os.mkfifo(path)
        elif kind == 4:
            junk = entry / rng.choice(("a.json", "zz.json", "junk", "x.hsaco"))
            if not os.path.lexists(junk):  # never write through a link this made (/etc/passwd)
                junk.write_text("{}")
        elif kind == 5:
            shutil.rmtree(entry)
            if rng.random() < 0.5:
                entry.write_text("")
            else:
                entry.symlink_to(rng.choice(("/dev/zero", "/etc", str(self.outside.parent))))
        elif kind == 6 and files:
            target = rng.choice(files)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
            target.symlink_to(rng.choice(("/dev/zero", "/etc/passwd", str(self.outside))))

    def rebuild(self, rng, entry):
        """With the compiler at hand (and the fake HIP, when given), any damage is repaired: the
        kernel loads, and a fresh entry has the umask's permissions."""
        umask = rng.choice(UMASKS)
        before = os.lstat(entry).st_ino
        old = os.umask(umask)
        try:
            with bounded(SECONDS_PER_INPUT * 4, cap_memory=False):
                if self.args.fake_hip:
                    kernel = expect_error(self.library,
                                          lambda: self.dsv4.get_kernel(self.config, CHIP))
                    if kernel is None:
                        raise Failure(f"a damaged cache entry was not rebuilt: '{entry}'")
                files = expect_error(self.library, lambda: self.dsv4.find_kernel(self.config,
                                                                                  CHIP))
                if files is None:
                    raise Failure(f"a damaged cache entry was not rebuilt: '{entry}'")
        finally:
            os.umask(old)
        if files.binary.parent != entry or not files.binary.is_file():
            raise Failure(f"the rebuilt kernel is '{files.binary}', not in '{entry}'")
        if os.lstat(entry).st_ino != before:  # compiled again by this input: its modes
            check_modes(entry, umask, "the rebuilt cache entry")

    # -- config ---------------------------------------------------------------------------------
    def fuzz_config(self, rng, folder):
        ints = [64, 128, 512, 4096, 2, 32, 1, 4, 16, 1 << 20, 0, -1, -64, 3, 33, 100, 8192,
                (1 << 20) + 1, 1 << 21, (1 << 31) - 1, 1 << 31, 1 << 63, 1 << 70, "128", 128.0,
                True, None, [128], Index(128), Index(4), Index(-1), float("nan")]
        reals = [1e-6, 1e-5, 0.5, 1.0, 1, 1e-45, 1e-46, 1e-60, 0.0, -1e-6, 3.4e38, 3.5e38,
                 1e300, 10 ** 400, float("inf"), float("nan"), "1e-6", True, None, [1e-6]]
        fields = {
            "mode": rng.choice(["decode", "prefill", "compress", "", "DECODE", None, 1,
                                ["decode"]]),
            "head_dim": rng.choice(ints), "rope_dim": rng.choice(ints),
            "ratio": rng.choice(ints), "page_size": rng.choice(ints),
            "kv_dtype": rng.choice(["f32", "bf16", "f16", "f64", None, 0]),
            "weight_dtype": rng.choice(["f32", "bf16", "f16", b"f32"]),
            "eps": rng.choice(reals), "scale": rng.choice([None, None, *reals]),
            "rotate": rng.choice([True, False, "false", "true", 0, 1, None]),
            "layout": rng.choice([None, None, "indexer", "main", "", "paged", 1]),
            "overlap": rng.choice([None, None, True, False, "true", 0, 1]),
            "state_block_size": rng.choice([None, None, *ints])}
        # Mostly a few fields changed from a valid configuration, so that most inputs get past
        # the first check.
        if rng.random() < 0.7:
            keep = dict(mode="decode", head_dim=128, rope_dim=64, ratio=4, page_size=64,
                        kv_dtype="f32", weight_dtype="f32", eps=1e-6, scale=None, rotate=True,
                        layout=None, overlap=None, state_block_size=None)
            if rng.random() < 0.3:  # a valid compress configuration instead
                keep.update(mode="compress", layout="main", overlap=True, state_block_size=64)
            changed = rng.sample(sorted(fields), rng.randint(1, 3))
            fields = {k: fields[k] if k in changed else keep[k] for k in keep}
        with bounded(SECONDS_PER_INPUT, cap_memory=True):
            config = expect_error(self.library, lambda: self.dsv4.Config(**fields))
            if config is None:
                return
            problem = self.contract(config)
            if problem:
                raise Failure(f"Config({fields}) was accepted but {problem}")
            for use in (str, lambda c: c.key(), lambda c: c.gen_args(CHIP)):
                expect_error(self.library, lambda: use(config))
        if config.layout is None and rng.random() < 0.25:
            gen = subprocess.run([str(Path(self.args.tools) / "dsv4-gen"),
                                  *config.gen_args(CHIP), "--print-name"],
                                 capture_output=True, text=True)
            if gen.returncode != 0:
                raise Failure(f"Config accepted {config!r}, dsv4-gen refuses it: "
                              f"{gen.stderr.strip()}")

    @staticmethod
    def contract(c):
        """What an accepted configuration breaks of Config's documented types and limits."""
        def is_int(v):
            return type(v) is int
        if not all(type(v) is str for v in (c.mode, c.kv_dtype, c.weight_dtype)):
            return "a name is not a str"
        if not (c.layout is None or type(c.layout) is str):
            return "layout is neither None nor a str"
        if not all(is_int(v) for v in (c.head_dim, c.rope_dim, c.ratio, c.page_size)):
            return "a size is not an int"
        b = c.state_block_size
        if c.mode == "compress":
            if c.layout is None or c.kv_dtype != "f32" or type(c.overlap) is not bool:
                return "a compress configuration without a layout, an f32 state or overlap"
            if not (is_int(b) and 1 <= b <= 1 << 20 and b & (b - 1) == 0):
                return f"state block size {b!r} is outside the compiler's limits"
        elif c.overlap is not None or b is not None:
            return "overlap or a state block size outside a compress configuration"
        if type(c.rotate) is not bool:
            return "rotate is not a bool"
        if type(c.eps) is not float or not (c.scale is None or type(c.scale) is float):
            return "eps or scale is not a float"
        d = c.head_dim
        if not (64 <= d <= 4096 and d & (d - 1) == 0):
            return f"head dim {d} is outside the compiler's limits"
        if not (2 <= c.rope_dim <= d and c.rope_dim % 2 == 0):
            return f"rope dim {c.rope_dim} is outside the compiler's limits"
        if not 1 <= c.ratio < 1 << 31:
            return f"ratio {c.ratio} is outside the compiler's limits"
        p = c.page_size
        if not (1 <= p <= 1 << 20 and p & (p - 1) == 0):
            return f"page size {p} is outside the compiler's limits"
        import struct
        try:
            f32 = struct.unpack("<f", struct.pack("<f", c.eps))[0]
        except OverflowError:
            return f"eps {c.eps} is beyond f32"
        if not 0 < f32 < math.inf:
            return f"eps {c.eps} is not a positive finite f32"
        if c.scale is not None and (not c.rotate or not math.isfinite(c.scale)
                                    or abs(c.scale) > 3.4028234663852886e38):
            return f"scale {c.scale} is given without rotate or is no finite f32"
        return None

    # -- chip -----------------------------------------------------------------------------------
    def fuzz_chip(self, rng, folder):
        chip = rng.choice(self.library.CHIPS) if rng.random() < 0.5 else rng.choice(
            ["gfx942 toolkit=/x", "gfx942}", "{gfx942", "../gfx942", "gfx942/..", "", " gfx942",
             "sm_80", "gfx90a", "gfx942\n", "gfx942\0", 942, None])
        root = folder / cache_name(rng)
        known = chip in self.library.CHIPS
        compile = rng.random() < 0.5
        self.use(cache=root, bin_dir=self.args.tools)
        with bounded(SECONDS_PER_INPUT * 4, cap_memory=False):
            if known:
                found = expect_error(self.library, lambda: self.dsv4.find_kernel(
                    self.config, chip, compile=compile))
            else:
                try:
                    self.dsv4.find_kernel(self.config, chip, compile=compile)
                    raise Failure(f"the unknown chip {chip!r} got a kernel")
                except ValueError:
                    found = None
                except (Failure, Hang):
                    raise
                except BaseException as e:
                    raise Failure(f"the unknown chip {chip!r} is not refused first: "
                                  f"{type(e).__name__}: {e}") from None
        if compile and known and (found is None or not inside(found.binary, root)):
            raise Failure(f"compiling into the cache '{root}' for {chip} failed")
        if not (compile and known) and os.path.lexists(root):
            raise Failure(f"a lookup for chip {chip!r} that found nothing left '{root}' behind")

    # -- driver ---------------------------------------------------------------------------------
    def run_one(self, seed, number):
        rng = random.Random(f"{seed}/{number}")
        target = rng.choice(TARGETS)
        folder = Path(tempfile.mkdtemp(dir=self.work, prefix=f"{target}-{number}-"))
        try:
            getattr(self, "fuzz_" + target)(rng, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return target


def campaign(fuzzer, args):
    counts = dict.fromkeys(sorted(set(TARGETS)), 0)
    numbers = [args.input] if args.input is not None else range(args.runs)
    failures = 0
    for number in numbers:
        try:
            counts[fuzzer.run_one(args.seed, number)] += 1
        except Failure as e:
            failures += 1
            print(f"FAIL (seed {args.seed}, input {number}; replay: --seed {args.seed} "
                  f"--input {number}): {e}", flush=True)
            if not args.keep_going:
                return False
    print(f"seed {args.seed}: {len(numbers)} inputs (" +
          ", ".join(f"{n} {t}" for t, n in counts.items()) + "), " +
          (f"{failures} failed" if failures else "no failure"))
    return failures == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", required=True, help="folder of dsv4-gen and dsv4-opt")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--input", type=int, help="replay this input of the seed alone")
    parser.add_argument("--keep-going", action="store_true", help="run every input, count failures")
    parser.add_argument("--runtime-lib", help="libdsv4_runtime.so, to load rebuilt kernels")
    parser.add_argument("--fake-hip", help="the fake HIP library the runtime loads through")
    args = parser.parse_args()
    args.tools = os.path.abspath(args.tools)
    if args.fake_hip:
        os.environ["DSV4_RUNTIME_LIB"] = args.runtime_lib
        os.environ["DSV4_HIP_LIBRARY"] = args.fake_hip
    signal.signal(signal.SIGALRM, on_alarm)
    with tempfile.TemporaryDirectory() as work:
        ok = campaign(Fuzzer(args, Path(work)), args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
