"""Kernels by configuration: a prebuilt library with an index, and an on-disk JIT cache.

A configuration is an in-place epilogue (layout None), a fused store into a paged cache of one
layout (FP8 indexer or main, MXFP4 indexer) and page size, or a compress kernel (mode "compress":
the window pooling over a paged state cache of one block size, with or without overlapping
windows, in front of such a store); matching is exact, so one never stands in for another.
get_kernel(config, device) returns the loaded dsv4.Kernel for a configuration. It looks, in
order, in the library the installed package carries (dsv4/kernels/, copied by setup.py from
scripts/run's output), in the libraries named by $DSV4_KERNEL_DIR (os.pathsep-separated folders
holding an index.json written by `scripts/run` or write_index, each followed by its store/
subfolder with its own index.json; default: the checkout's out/ when the package runs from a
checkout), in the on-disk cache ($DSV4_CACHE_DIR, default ~/.cache/dsv4, keyed by the
configuration, the chip and a fingerprint of the compiler), and finally compiles the
configuration into that cache with dsv4-gen and dsv4-opt when they can be found ($DSV4_BIN_DIR,
PATH, or the repository's build/bin). Everything but the final load needs no GPU driver.

Every file read is bounded and checked: an index or manifest must be a regular file of JSON
(at most 8 MiB, 1 MiB) with the documented keys and types, naming only files of its own folder;
anything else is a ValueError naming the file. A damaged cache entry is rebuilt (when the
compiler is found) and the file that was wrong is named. Files and folders are written with
the umask's permissions, so a cache or library can be shared.
"""
import dataclasses
import errno
import hashlib
import json
import math
import numbers
import operator
import os
import secrets
import shutil
import stat
import struct
import subprocess
import threading
from pathlib import Path

from . import _abi
from .version import __version__

__all__ = ["CHIPS", "Config", "KernelFiles", "KernelNotFound", "cache_dir", "check_kernel",
           "chip_of", "find_kernel", "get_kernel", "library_files", "library_kernels",
           "read_manifest", "write_index"]

INDEX_NAME = "index.json"
STORE_SUBFOLDER = "store"
# 2: entries carry `layout` (null for an in-place kernel) and a store kernel's `page_size`; a
# version-1 index may list a store kernel as an in-place one, so it is refused, not guessed.
INDEX_FORMAT = "dsv4-index-2"
MANIFEST_FORMAT = "dsv4-manifest-1"
# The chips dsv4 compiles for (lib/Target/Toolkit.cpp). A chip name becomes a folder of the
# cache and a pass option, so no other string gets that far.
CHIPS = ("gfx942", "gfx950", "sm_90")
_MODES = tuple(mode for mode, _ in _abi.HANDLE_KINDS)
COMPRESS_MODE = "compress"
# Modes whose handle is one of sglang's plan structs (Handle.def), read in place.
SGLANG_MODES = ("sglang_decode", "sglang_extend")
_KV_DTYPES = ("f32", "bf16", "f16")
_OUT_LOC_DTYPES = ("i64", "i32")
_WEIGHT_DTYPES = ("f32", "bf16")
# SPEC.md "Storing into the paged caches": the FP8 layouts, then the MXFP4 indexer's (e2m1).
_FP8_LAYOUTS = ("indexer", "main")
_LAYOUTS = (*_FP8_LAYOUTS, "indexer_mxfp4")
DEFAULT_PAGE_SIZE = 64          # dsv4-gen's --page-size default
# The limits the compiler checks (#dsv4.spec's verifier, lib/Dialect/Dsv4/IR/Checks.cpp): the
# sizes its address arithmetic multiplies, so a configuration outside them is refused here
# before it reaches a compiler, a cache folder or a key.
MIN_HEAD_DIM, MAX_HEAD_DIM = 64, 4096   # D, a power of two; R is even in [2, D]
MAX_PAGE_SIZE = 1 << 20                 # tokens per cache page, a power of two; also the
                                        # most rows a state block of a compress kernel has
MAX_RATIO = (1 << 31) - 1               # the decode position rule computes in i32
# Bounds on the files the library reads: an index of some 18,000 kernels, and far above any
# manifest (about 2 KB); far below what would hurt to read into memory.
_MAX_INDEX_BYTES = 8 << 20
_MAX_MANIFEST_BYTES = 1 << 20
_REPO_ROOT = Path(__file__).resolve().parents[2]
# The kernel library an installed package carries: setup.py copies scripts/run's output here
# (library_files), so that a serving machine needs no compiler for what the library holds.
PACKAGE_LIBRARY = Path(__file__).resolve().parent / "kernels"


class KernelNotFound(RuntimeError):
    """No library, cache entry or compiler could provide the kernel."""


def _f32(value):
    """value rounded to f32, as the kernel compiles it in (and the manifest records it); an
    infinity beyond f32's range."""
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _as_int(value):
    """`value` as an int (a numpy or torch integer too), or None when it is not an integer: a
    bool, float or string is not one."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def _as_float(value):
    """`value` as a float, or None when it is not a real number (a bool or string is not one)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond any float
        return math.inf if value > 0 else -math.inf


def _is_power_of_two(value):
    return value > 0 and value & (value - 1) == 0


@dataclasses.dataclass(frozen=True)
class Config:
    """One kernel configuration; the fields of dsv4-gen's options and of the manifest.

    Each field must have its type (names str, sizes int, rotate bool, eps and scale real
    numbers; a numpy or torch scalar is converted) and lie within the compiler's limits: D a
    power of two in [64, 4096], R even in [2, D], ratio in [1, 2^31 - 1], eps a positive and
    scale a finite f32, page_size a power of two <= 2^20. A compress configuration stores (it
    has a layout), reads an f32 state (kv_dtype) and has overlap (True or False) and
    state_block_size (a power of two <= 2^20); any other has neither. Anything else is a
    ValueError naming the field. The store layout's own D and R are checked by dsv4-gen."""
    mode: str                   # "decode" (seq_lens [B]), "prefill" (plan [M, 4]),
                                # "compress" (a paged state cache and a block table), or
                                # "sglang_decode"/"sglang_extend" (sglang's plan structs)
    head_dim: int               # D
    rope_dim: int = 64          # R
    kv_dtype: str = "f32"
    weight_dtype: str = "f32"
    eps: float = 1e-6
    ratio: int = 4
    rotate: bool = True
    scale: float = None         # Hadamard scale; None means D^-0.5
    layout: str = None          # None: kv updated in place; else the store into that layout
    page_size: int = DEFAULT_PAGE_SIZE  # the store's tokens per cache page
    overlap: bool = None        # compress: windows of 2 * ratio positions (state rows of 4D)
    state_block_size: int = None  # compress: rows per block of the state cache
    out_loc_dtype: str = "i64"  # a store's out_loc slots: "i64", or "i32" (not compress)

    def __post_init__(self):
        problems = self._convert_numbers() + self._check_names()
        problems += self._check_sizes() + self._check_reals()
        if problems:
            raise ValueError(f"invalid dsv4 configuration {self!r}: " + "; ".join(problems))

    def _convert_numbers(self):
        """Each number field as a Python int or float, so that equal configurations compare,
        hash and key equal whatever scalar type they came as; the fields that are no number."""
        problems = []
        for name, convert, kind in ((_abi.HEAD_DIM, _as_int, "an integer"),
                                    (_abi.ROPE_DIM, _as_int, "an integer"),
                                    (_abi.RATIO, _as_int, "an integer"),
                                    (_abi.PAGE_SIZE, _as_int, "an integer"),
                                    (_abi.STATE_BLOCK_SIZE, _as_int, "an integer or None"),
                                    (_abi.EPS, _as_float, "a real number"),
                                    (_abi.SCALE, _as_float, "a real number or None")):
            value = getattr(self, name)
            if name in (_abi.SCALE, _abi.STATE_BLOCK_SIZE) and value is None:
                continue
            number = convert(value)
            if number is None:
                problems.append(f"{name.replace('_', ' ')} {value!r} is not {kind}")
            else:
                object.__setattr__(self, name, number)
        if not isinstance(self.rotate, bool):
            # "false" would be true, and compile the other kernel.
            problems.append(f"rotate {self.rotate!r} is not True or False")
        if self.overlap is not None and not isinstance(self.overlap, bool):
            problems.append(f"overlap {self.overlap!r} is not True, False or None")
        return problems

    def _check_names(self):
        problems = []
        for name, allowed, text in (
                (_abi.MODE, _MODES, f"one of {_MODES}"),
                (_abi.KV_DTYPE, _KV_DTYPES, f"one of {_KV_DTYPES}"),
                (_abi.WEIGHT_DTYPE, _WEIGHT_DTYPES, f"one of {_WEIGHT_DTYPES}")):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in allowed:
                problems.append(f"{name.replace('_', ' ')} {value!r} is not {text}")
        if self.layout is not None and (not isinstance(self.layout, str)
                                        or self.layout not in _LAYOUTS):
            problems.append(f"layout {self.layout!r} is not None (in place) or one of {_LAYOUTS}")
        if self.out_loc_dtype not in _OUT_LOC_DTYPES:
            problems.append(f"out_loc dtype {self.out_loc_dtype!r} is not one of "
                            f"{_OUT_LOC_DTYPES}")
        elif self.out_loc_dtype != "i64" and (self.layout is None or self.mode == COMPRESS_MODE):
            # Two equal in-place configurations must compare (and key) equal.
            problems.append(f"out_loc dtype {self.out_loc_dtype!r} is given to a configuration "
                            f"that is not a store's (a compress kernel's slots are i64)")
        if self.mode == COMPRESS_MODE:
            if self.layout is None:
                problems.append("a compress configuration stores: it needs a layout")
            if self.kv_dtype != "f32":
                problems.append(f"kv dtype {self.kv_dtype!r} is not f32, the state cache's "
                                f"element type of a compress configuration")
            if self.overlap is None:
                problems.append("a compress configuration needs overlap (True or False)")
            if self.state_block_size is None:
                problems.append("a compress configuration needs a state block size")
        elif self.overlap is not None or self.state_block_size is not None:
            # Two equal configurations must compare (and key) equal.
            problems.append("overlap and state block size are given to a configuration that is "
                            "not a compress one")
        return problems

    def _check_sizes(self):
        """The integer fields' limits (those that are integers)."""
        problems = []
        d, r = self.head_dim, self.rope_dim
        d_ok = isinstance(d, int) and _is_power_of_two(d) and MIN_HEAD_DIM <= d <= MAX_HEAD_DIM
        if isinstance(d, int) and not d_ok:
            problems.append(f"head dim {d} is not a power of two in [{MIN_HEAD_DIM}, "
                            f"{MAX_HEAD_DIM}]")
        max_r = d if d_ok else MAX_HEAD_DIM
        if isinstance(r, int) and not (2 <= r <= max_r and r % 2 == 0):
            problems.append(f"rope dim {r} is not even in [2, {max_r}]")
        if isinstance(self.ratio, int) and not 1 <= self.ratio <= MAX_RATIO:
            problems.append(f"ratio {self.ratio} is not in [1, {MAX_RATIO}]")
        p = self.page_size
        if isinstance(p, int):
            if not (_is_power_of_two(p) and p <= MAX_PAGE_SIZE):
                problems.append(f"page size {p} is not a power of two in [1, {MAX_PAGE_SIZE}]")
            elif self.layout is None and p != DEFAULT_PAGE_SIZE:
                # Two equal in-place configurations must compare (and key) equal.
                problems.append(f"page size {p} is given to an in-place configuration "
                                f"(it needs a layout)")
        b = self.state_block_size
        if isinstance(b, int) and not (_is_power_of_two(b) and b <= MAX_PAGE_SIZE):
            problems.append(f"state block size {b} is not a power of two in [1, {MAX_PAGE_SIZE}]")
        return problems

    def _check_reals(self):
        """eps and scale as the kernel takes them, f32 (those that are numbers)."""
        problems = []
        if isinstance(self.eps, float) and not 0 < _f32(self.eps) < math.inf:
            problems.append(f"eps {self.eps!r} is not a positive finite f32")
        if isinstance(self.scale, float):
            if not math.isfinite(_f32(self.scale)):
                problems.append(f"scale {self.scale!r} is not a finite f32")
            elif self.rotate is False:
                problems.append("a scale is given but rotate is off (the scale multiplies the "
                                "Hadamard output)")
        return problems

    @property
    def effective_scale(self):
        return _f32(self.head_dim ** -0.5 if self.scale is None else self.scale)

    def __str__(self):
        text = (f"{self.mode} D={self.head_dim} R={self.rope_dim} kv={self.kv_dtype} "
                f"weight={self.weight_dtype} eps={self.eps:g} ratio={self.ratio} "
                f"rotate={self.rotate}")
        text += f" scale={self.scale:g}" if self.scale is not None else ""
        text += f" layout={self.layout} page_size={self.page_size}" if self.layout else ""
        text += f" out_loc_dtype={self.out_loc_dtype}" if self.out_loc_dtype != "i64" else ""
        if self.mode == COMPRESS_MODE:
            text += f" overlap={self.overlap} state_block_size={self.state_block_size}"
        return text

    def gen_args(self, chip=None):
        """dsv4-gen's options for this configuration; a store configuration takes the FP8 type
        of `chip` (dsv4-gen --chip), so it needs one."""
        args = [f"--mode={self.mode}", f"--head-dim={self.head_dim}",
                f"--rope-dim={self.rope_dim}", f"--kv-dtype={self.kv_dtype}",
                f"--weight-dtype={self.weight_dtype}", f"--eps={self.eps!r}",
                f"--ratio={self.ratio}", f"--rotate={'true' if self.rotate else 'false'}"]
        if self.scale is not None:
            args.append(f"--scale={self.scale!r}")
        if self.layout:
            if chip is None:
                raise ValueError(f"the store configuration {self} needs a chip for its FP8 type")
            args += [f"--layout={self.layout}", f"--page-size={self.page_size}", f"--chip={chip}"]
            if self.out_loc_dtype != "i64":  # dsv4-gen's default
                args.append(f"--out-loc-dtype={self.out_loc_dtype}")
        if self.mode == COMPRESS_MODE:
            args += [f"--state-block-size={self.state_block_size}",
                     f"--overlap={'true' if self.overlap else 'false'}"]
        return args

    def _identity(self):
        """What the kernel computes: eps and scale as f32 (as compiled in), the scale only where
        it is used, and a store's layout and page size."""
        fields = (self.mode, self.head_dim, self.rope_dim, self.kv_dtype, self.weight_dtype,
                  _f32(self.eps), self.ratio, self.rotate,
                  self.effective_scale if self.rotate else None)
        if self.layout:  # in-place keys stay as they were before the store existed
            fields += (self.layout, self.page_size)
        if self.mode == COMPRESS_MODE:  # and store keys as they were before compress kernels
            fields += (self.overlap, self.state_block_size)
        if self.out_loc_dtype != "i64":  # and i64 stores' keys as before i32 slots
            fields += (self.out_loc_dtype,)
        return fields

    def key(self):
        """A name for the configuration, stable across processes (the cache's folder)."""
        return hashlib.sha256(repr(self._identity()).encode()).hexdigest()[:20]

    def matches(self, manifest):
        """Whether a manifest (read_manifest's dict) or index entry is a kernel for this
        configuration; ValueError when it records no valid configuration."""
        return Config.from_manifest(manifest)._identity() == self._identity()

    @classmethod
    def from_manifest(cls, manifest):
        """The configuration a manifest or index entry records; ValueError when a field is
        missing or invalid (an in-place kernel's entry has layout and page_size null, any but a
        compress kernel's overlap and state_block_size)."""
        m = manifest
        if not isinstance(m, dict):
            raise ValueError(f"{type(m).__name__} is not a JSON object")
        layout = m.get(_abi.LAYOUT)
        compress = m.get(_abi.MODE) == COMPRESS_MODE
        missing = [k for k in _CONFIG_KEYS if k not in m]
        missing += [_abi.PAGE_SIZE] if layout is not None and _abi.PAGE_SIZE not in m else []
        missing += [k for k in _COMPRESS_CONFIG_KEYS if compress and k not in m]
        if missing:
            raise ValueError(f"lacks {', '.join(missing)}")
        return cls(mode=m[_abi.MODE], head_dim=m[_abi.HEAD_DIM], rope_dim=m[_abi.ROPE_DIM],
                   kv_dtype=m[_abi.KV_DTYPE], weight_dtype=m[_abi.WEIGHT_DTYPE], eps=m[_abi.EPS],
                   ratio=m[_abi.RATIO], rotate=m[_abi.ROTATE],
                   scale=m[_abi.SCALE] if m[_abi.ROTATE] is True else None, layout=layout,
                   page_size=m[_abi.PAGE_SIZE] if layout is not None else DEFAULT_PAGE_SIZE,
                   overlap=m[_abi.OVERLAP] if compress else None,
                   state_block_size=m[_abi.STATE_BLOCK_SIZE] if compress else None,
                   # Stated only where the slots are i32 (an index entry holds null).
                   out_loc_dtype=m.get(_abi.OUT_LOC_DTYPE) or "i64")


# The manifest keys of a configuration (Config.from_manifest), and those of a whole manifest.
_CONFIG_KEYS = (_abi.MODE, _abi.ROTATE, _abi.HEAD_DIM, _abi.ROPE_DIM, _abi.RATIO, _abi.EPS,
                _abi.SCALE, _abi.KV_DTYPE, _abi.WEIGHT_DTYPE)
_MANIFEST_KEYS = (_abi.KERNEL, _abi.BINARY, _abi.CHIP, *_CONFIG_KEYS)
# A store kernel's manifest has these too (docs/ABI.md), and fp8_type for an FP8 layout; an
# in-place one has none of them.
_STORE_KEYS = (_abi.LAYOUT, _abi.PAGE_SIZE, _abi.CACHE_ALIGN)
# A compress kernel's configuration keys, and those its whole manifest has besides a store's.
_COMPRESS_CONFIG_KEYS = (_abi.OVERLAP, _abi.STATE_BLOCK_SIZE)
_COMPRESS_KEYS = (*_COMPRESS_CONFIG_KEYS, _abi.STATE_ALIGN, _abi.STATE_STRIDE_MULTIPLE)
# What an index entry holds besides "manifest": the fields Config.from_manifest reads (null
# where the kernel has none).
_INDEX_KEYS = (_abi.BINARY, _abi.CHIP,
               *(k for k in _MANIFEST_KEYS if k not in (_abi.BINARY, _abi.CHIP)),
               _abi.LAYOUT, _abi.PAGE_SIZE, *_COMPRESS_CONFIG_KEYS, _abi.OUT_LOC_DTYPE)


def _check_chip(chip):
    if not isinstance(chip, str) or chip not in CHIPS:
        raise ValueError(f"unknown chip {chip!r}: dsv4 compiles for {', '.join(CHIPS)}")


def _read_json(path, what, limit, *, missing_ok=False):
    """The JSON document in `path`, a regular file of at most `limit` bytes (None when there is
    no such file and `missing_ok`); ValueError naming `path` otherwise. A FIFO, a device or a
    link to one is refused before a byte is read (O_NONBLOCK: open does not wait for a FIFO's
    writer), and JSON nested too deeply for the parser is an error like any other."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError) as e:
        if missing_ok:
            return None
        raise ValueError(f"cannot read {what} '{path}': {e.strerror}") from None
    except OSError as e:
        raise ValueError(f"cannot read {what} '{path}': {e.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{what} '{path}' is not a regular file")
    with open(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise ValueError(f"cannot read {what} '{path}': {e.strerror}") from None
    if len(data) > limit:
        raise ValueError(f"{what} '{path}' has more than {limit} bytes")
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError(f"cannot read {what} '{path}': JSON nested too deeply") from None
    except ValueError as e:
        raise ValueError(f"cannot read {what} '{path}': {e}") from None


def _in_folder(folder, name, key):
    """folder/name for a `name` that is a file name: an index or manifest names files of its own
    folder, never ../../etc/passwd or an absolute path."""
    if not isinstance(name, str) or name in ("", ".", "..") or os.sep in name or "\0" in name:
        raise ValueError(f"{key} {name!r} is not a file name in '{folder}'")
    return folder / name


def read_manifest(path):
    """The manifest at `path` as a dict, checked for the keys and types this module reads (its
    binary a file of its own folder); ValueError naming the file otherwise. Needs no GPU driver
    and no runtime shim."""
    path = Path(path)
    manifest = _read_json(path, "dsv4 manifest", _MAX_MANIFEST_BYTES)
    if not isinstance(manifest, dict) or manifest.get(_abi.FORMAT) != MANIFEST_FORMAT:
        raise ValueError(f"'{path}' is not a {MANIFEST_FORMAT} manifest")
    missing = [k for k in _MANIFEST_KEYS if k not in manifest]
    if manifest.get(_abi.MODE) == COMPRESS_MODE:
        missing += [k for k in _COMPRESS_KEYS if k not in manifest]
    if _abi.LAYOUT in manifest:
        missing += [k for k in _STORE_KEYS if k not in manifest]
        if manifest[_abi.LAYOUT] in _FP8_LAYOUTS and _abi.FP8_TYPE not in manifest:
            missing.append(_abi.FP8_TYPE)
    if missing:
        raise ValueError(f"manifest '{path}' lacks {', '.join(missing)}")
    try:
        for key in (_abi.KERNEL, _abi.CHIP):
            if not isinstance(manifest[key], str):
                raise ValueError(f"{key} {manifest[key]!r} is not a string")
        _in_folder(path.parent, manifest[_abi.BINARY], _abi.BINARY)
        Config.from_manifest(manifest)
    except ValueError as e:
        raise ValueError(f"manifest '{path}': {e}") from None
    return manifest


@dataclasses.dataclass(frozen=True)
class KernelFiles:
    binary: Path
    manifest: Path
    origin: str                 # "library", "cache" or "compiled"


def write_index(folder):
    """Writes folder/index.json listing every manifest in `folder` (each naming a code object
    there); returns the entry count."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"'{folder}' is not a folder of dsv4 kernels")
    entries = []
    for path in sorted(folder.glob("*.json")):
        if path.name == INDEX_NAME:
            continue
        m = read_manifest(path)
        if not (folder / m[_abi.BINARY]).is_file():
            raise ValueError(f"manifest '{path}' names the code object '{m['binary']}', which "
                             f"is not a file in '{folder}'")
        entries.append({"manifest": path.name, **{k: m.get(k) for k in _INDEX_KEYS}})
    index = {_abi.FORMAT: INDEX_FORMAT, "version": __version__, "kernels": entries}
    _write_atomically(folder / INDEX_NAME, json.dumps(index, indent=1) + "\n")
    return len(entries)


def _new_beside(path, create):
    """(candidate, create(candidate)) for a fresh name beside `path`: its name, a dot, random
    digits. tempfile's files are 0600 and its folders 0700 whatever the umask: a library or cache
    shared by users, or warmed by root for a service, would be unreadable."""
    while True:
        candidate = path.with_name(f"{path.name}.{secrets.token_hex(6)}")
        try:
            return candidate, create(candidate)
        except FileExistsError:
            continue


def _write_atomically(path, text):
    """Writes `path` as a new file renamed into place, with the umask's permissions."""
    tmp, fd = _new_beside(path, lambda candidate: os.open(
        candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666))
    try:
        with open(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _library_dirs():
    """The library the package carries, then the folders of $DSV4_KERNEL_DIR (default: the
    checkout's out/, when the package runs from a checkout)."""
    dirs = [Path(d) for d in os.environ.get("DSV4_KERNEL_DIR", "").split(os.pathsep) if d]
    packaged = [PACKAGE_LIBRARY] if PACKAGE_LIBRARY.is_dir() else []
    return packaged + (dirs or _checkout_library())


def _checkout_library():
    """[out/] of the checkout this package runs from (PYTHONPATH=python, where scripts/run
    writes it); none for an installed package, whose parents' out/ is nobody's library."""
    in_checkout = ((_REPO_ROOT / "VERSION").is_file()
                   and _REPO_ROOT / "python" / "dsv4" == Path(__file__).resolve().parent)
    return [_REPO_ROOT / "out"] if in_checkout else []


def _index_folders():
    """Each library folder, then its store/ subfolder: scripts/run keeps the store kernels apart
    because the device tools (check_numerics.py, bench/) take every manifest of a library folder
    for an in-place kernel."""
    for folder in _library_dirs():
        yield folder
        yield folder / STORE_SUBFOLDER


@dataclasses.dataclass(frozen=True)
class _IndexEntry:
    chip: str
    config: Config
    binary: Path
    manifest: Path


def _read_index(folder):
    """The entries of folder/index.json, each checked (keys, types, file names in `folder`); none
    where the folder has no index (a library not built yet is no error; a broken index is)."""
    path = folder / INDEX_NAME
    index = _read_json(path, "dsv4 kernel index", _MAX_INDEX_BYTES, missing_ok=True)
    if index is None:
        return []
    if not isinstance(index, dict) or index.get(_abi.FORMAT) != INDEX_FORMAT:
        raise ValueError(f"'{path}' is not a {INDEX_FORMAT} index (rewrite it with "
                         f"`python3 -m dsv4 --index {folder}`)")
    kernels = index.get("kernels")
    if not isinstance(kernels, list):
        raise ValueError(f"dsv4 kernel index '{path}': \"kernels\" is not a list")
    entries = []
    for number, entry in enumerate(kernels):
        try:
            if not isinstance(entry, dict):
                raise ValueError(f"{type(entry).__name__} is not a JSON object")
            if not isinstance(entry.get(_abi.CHIP), str):
                raise ValueError(f"chip {entry.get('chip')!r} is not a string")
            entries.append(_IndexEntry(entry[_abi.CHIP], Config.from_manifest(entry),
                                       _in_folder(folder, entry.get(_abi.BINARY), _abi.BINARY),
                                       _in_folder(folder, entry.get("manifest"), "manifest")))
        except ValueError as e:
            raise ValueError(f"dsv4 kernel index '{path}', kernel {number}: {e}") from None
    return entries


def library_files(folder):
    """The files of the kernel library in `folder` (what scripts/run wrote), relative to it: its
    index.json and its store/ subfolder's, and every code object and manifest they list; what
    no index lists (scripts/run's bookkeeping, a stray object) is not part of it. setup.py ships
    these in the package. ValueError when `folder` has no index or an index lists a file that
    is not there (naming both): a library shipped without it would fail only when served."""
    folder = Path(folder)
    if not (folder / INDEX_NAME).is_file():
        raise ValueError(f"'{folder}' holds no {INDEX_NAME}: it is not a dsv4 kernel library "
                         f"(scripts/run writes one; `python3 -m dsv4 --index DIR` indexes a "
                         f"folder of dsv4-opt's kernels)")
    files = []
    for sub in (Path(), Path(STORE_SUBFOLDER)):
        if not (folder / sub / INDEX_NAME).is_file():
            continue
        files.append(sub / INDEX_NAME)
        # _read_index confines every name to the index's own folder ("../x" would be copied
        # over the package); what is left is that each file is there.
        for entry in _read_index(folder / sub):
            for key, path in ((_abi.BINARY, entry.binary), ("manifest", entry.manifest)):
                if not path.is_file():
                    raise ValueError(f"'{folder / sub / INDEX_NAME}' lists {key} "
                                     f"{path.name!r}, which is not a file in '{folder / sub}'")
                files.append(sub / path.name)
    return files


def _find_in_library(config, chip):
    for folder in _index_folders():
        for entry in _read_index(folder):
            if entry.chip == chip and entry.config._identity() == config._identity():
                return KernelFiles(entry.binary, entry.manifest, "library")
    return None


def library_kernels(chip):
    """The manifests of every library kernel for `chip` (what a device proof iterates over)."""
    _check_chip(chip)
    return [read_manifest(entry.manifest) for folder in _index_folders()
            for entry in _read_index(folder) if entry.chip == chip]


def cache_dir():
    return Path(os.environ.get("DSV4_CACHE_DIR") or Path.home() / ".cache" / "dsv4")


def _tool(name):
    """dsv4-gen / dsv4-opt as an absolute path: $DSV4_BIN_DIR, else PATH, else the repository's
    build (the compile runs in the output folder, so a relative path would not be found)."""
    bin_dir = os.environ.get("DSV4_BIN_DIR")
    if bin_dir:
        found = Path(bin_dir) / name
    else:
        found = shutil.which(name) or _REPO_ROOT / "build" / "bin" / name
    found = os.path.abspath(found)
    return found if os.path.isfile(found) and os.access(found, os.X_OK) else None


@dataclasses.dataclass(frozen=True)
class _Compiler:
    gen: str
    opt: str
    fingerprint: str            # the cache's folder of the kernels these tools compile


_fingerprints_guard = threading.Lock()
_fingerprints = {}


def _compiler():
    """dsv4-gen and dsv4-opt with their fingerprint, or None when either is not found."""
    gen, opt = _tool("dsv4-gen"), _tool("dsv4-opt")
    if not gen or not opt:
        return None
    identity = tuple((p, s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns)
                     for p, s in ((p, os.stat(p)) for p in (gen, opt)))
    with _fingerprints_guard:
        fingerprint = _fingerprints.get(identity)
    if fingerprint is None:
        fingerprint = _fingerprint(gen, opt)
        with _fingerprints_guard:
            _fingerprints[identity] = fingerprint
    return _Compiler(gen, opt, fingerprint)


def _fingerprint(gen, opt):
    """What compiles a kernel, as a name: dsv4's version, the bytes of both tools (any rebuild of
    dsv4 changes them, committed or not, which a version string or git revision would miss)
    and the LLVM version dsv4-opt reports (it links LLVM and MLIR as shared libraries, which
    its bytes do not cover). A process computes it once per build of the tools."""
    digest = hashlib.sha256(f"dsv4 {__version__}\n".encode())
    for path in (gen, opt):
        tool = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    tool.update(chunk)
        except OSError as e:
            raise KernelNotFound(f"cannot read the compiler '{path}': {e.strerror}") from None
        digest.update(tool.digest())
    version = _run_tool([opt, "--version"], timeout=60)
    if version.returncode != 0:
        raise KernelNotFound(f"'{opt} --version' failed: {version.stderr.strip()}")
    digest.update(version.stdout.encode())
    return digest.hexdigest()[:20]


def _run_tool(command, **kwargs):
    """The finished run of dsv4-gen or dsv4-opt (text output captured); KernelNotFound when it
    cannot be started or does not finish in time."""
    try:
        return subprocess.run(command, capture_output=True, text=True, errors="replace",
                              **kwargs)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise KernelNotFound(f"cannot run '{command[0]}': {e}") from None


class _DamagedEntry(Exception):
    """A cache entry that is there but cannot be used; the message names the file."""


def _is_cached_file(path):
    """Whether `path` is a file as dsv4-opt writes one: regular, not empty, not a link (nothing
    in the cache is a link, so one is damage, and could lead out of the cache)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size > 0


def _read_cache_entry(folder, config, chip):
    """The kernel files of the cache entry `folder`, or None when there is none; _DamagedEntry
    naming the file that is wrong when the entry is there but unusable."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            raise _DamagedEntry(f"'{folder}' is not a folder")
        manifests = sorted(p for p in folder.iterdir() if p.suffix == ".json")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise _DamagedEntry(f"cannot read '{folder}': {e.strerror}") from None
    if not manifests:
        raise _DamagedEntry(f"'{folder}' holds no manifest")
    for path in manifests:
        try:
            if not _is_cached_file(path):
                raise ValueError(f"'{path}' is empty or not a regular file")
            m = read_manifest(path)
        except ValueError as e:
            raise _DamagedEntry(str(e)) from None
        if m[_abi.CHIP] == chip and config.matches(m):
            binary = folder / m[_abi.BINARY]
            if not _is_cached_file(binary):
                raise _DamagedEntry(f"'{binary}' is missing, empty or not a regular file")
            return KernelFiles(binary, path, "cache")
    raise _DamagedEntry(f"'{manifests[0]}' is not a kernel for {config} on {chip}")


def _cache_entry(config, chip, compiler):
    return cache_dir() / compiler.fingerprint / chip / config.key()


def _newest_cache_entry(config, chip):
    """With no compiler to ask, the configuration's most recently compiled cache entry, whatever
    compiler made it; None when there is none."""
    entries = []
    try:
        for compiler_folder in cache_dir().iterdir():
            entry = compiler_folder / chip / config.key()
            if os.path.lexists(entry):
                entries.append((os.lstat(entry).st_mtime_ns, entry))
    except OSError:  # no cache (yet), or one this user cannot list
        return None
    return max(entries)[1] if entries else None


def _make_folders(folder, made):
    """Makes `folder` and its missing parents with the umask's permissions, appending each one
    it made to `made` (a failed compile removes them again)."""
    missing = []
    while not os.path.lexists(folder) and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # a concurrent compile's
            continue
        made.append(path)


def _remove_empty_folders(made):
    for path in reversed(made):
        try:
            path.rmdir()
        except OSError:  # another compile put something there meanwhile
            return


def _remove(path):
    """Removes a file or a folder tree; what is gone already or cannot be removed is left."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


def _compile_into_cache(config, chip, compiler, *, replace):
    """Compiles `config` for `chip` into its cache entry: into a new folder beside it, checked,
    then renamed into place, so that a reader sees a complete entry or none; `replace` swaps out
    an entry that is there (a damaged one). A failure leaves nothing behind, not even the
    entry's parent folders."""
    entry = _cache_entry(config, chip, compiler)
    ir = _run_tool([compiler.gen, *config.gen_args(chip)])
    if ir.returncode != 0:
        raise KernelNotFound(f"dsv4-gen refused configuration {config}: {ir.stderr.strip()}")
    made = []
    try:
        _make_folders(entry.parent, made)
        work, _ = _new_beside(entry, os.mkdir)
        try:
            # The output folder is the compile's working directory: no path is pasted into the
            # pass options, where a space or a '}' in it would end the option or start another.
            out = _run_tool([compiler.opt, "-", f"--dsv4-compile=chip={chip} output-dir=.",
                             "-o", os.devnull], cwd=work, input=ir.stdout)
            if out.returncode != 0:
                raise KernelNotFound(f"dsv4-opt could not compile {config} for {chip}: "
                                     f"{out.stderr.strip()}")
            try:
                files = _read_cache_entry(work, config, chip)
            except _DamagedEntry as e:
                raise KernelNotFound(f"dsv4-opt's output for {config} on {chip} is unusable: "
                                     f"{e}") from None
            _install(work, entry, config, chip, replace)
        finally:
            _remove(work)  # gone already once renamed into place
    except OSError as e:
        _remove_empty_folders(made)
        raise KernelNotFound(f"cannot write the dsv4 cache entry '{entry}': {e}") from None
    except BaseException:
        _remove_empty_folders(made)
        raise
    return KernelFiles(entry / files.binary.name, entry / files.manifest.name, "compiled")


def _install(work, entry, config, chip, replace):
    """Renames the compiled folder `work` to `entry`. An entry already there is a concurrent
    compile's, kept unless `replace`, or a damaged one, moved aside (then removed) first."""
    while True:
        try:
            os.rename(work, entry)
            return
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                raise
        if not replace:
            try:
                if _read_cache_entry(entry, config, chip):
                    return
            except _DamagedEntry:
                pass
        try:
            aside, _ = _new_beside(entry, lambda candidate: os.rename(entry, candidate))
        except FileNotFoundError:  # a concurrent rebuild moved it first
            continue
        _remove(aside)
        replace = False


_locks_guard = threading.Lock()
_locks = {}


def _lock_for(key):
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def find_kernel(config, chip, *, compile=True):
    """The code object and manifest of `config` for `chip` ("gfx942", "gfx950", "sm_90"):
    from a library, else the cache, else (when `compile` and the compiler is found) compiled
    into the cache; a damaged cache entry is compiled again. Needs no GPU driver. Raises
    KernelNotFound naming the configuration and why, ValueError for an unknown chip or a
    damaged library index or manifest (naming the file)."""
    _check_chip(chip)
    with _lock_for((config, chip)):
        return _find_in_library(config, chip) or _find_in_cache(config, chip, compile)


def _find_in_cache(config, chip, compile):
    compiler = _compiler()
    why = ("compiling was not asked for" if not compile
           else "dsv4-gen/dsv4-opt were not found to compile it")
    if compiler is None:
        entry = _newest_cache_entry(config, chip)
    else:
        entry = _cache_entry(config, chip, compiler)
    try:
        found = _read_cache_entry(entry, config, chip) if entry else None
    except _DamagedEntry as e:
        if compiler is None or not compile:
            raise _not_found(config, chip, f"its cache entry is damaged ({e}) and {why}") from None
        return _compile_into_cache(config, chip, compiler, replace=True)
    if found:
        return found
    if compiler is None or not compile:
        raise _not_found(config, chip, why)
    return _compile_into_cache(config, chip, compiler, replace=False)


def _not_found(config, chip, why):
    return KernelNotFound(
        f"no dsv4 kernel for {config} on {chip}: none in the libraries "
        f"{[str(d) for d in _library_dirs()]} ($DSV4_KERNEL_DIR) nor in the cache "
        f"{cache_dir()}, and {why}. Build it with "
        f"`dsv4-gen {' '.join(config.gen_args(chip))} | dsv4-opt - "
        f"--dsv4-compile=\"chip={chip} output-dir=DIR\" -o /dev/null` and add DIR to "
        f"$DSV4_KERNEL_DIR after `python3 -m dsv4 --index DIR`, or put dsv4-opt "
        f"and dsv4-gen on PATH (or $DSV4_BIN_DIR).")


_loaded_guard = threading.Lock()
_loaded = {}
# The runtime's statuses that blame the file, not the driver or the device.
_BAD_FILE_STATUSES = ("DSV4_ERR_IO", "DSV4_ERR_LOAD_FAILED", "DSV4_ERR_KERNEL_NOT_FOUND",
                      "DSV4_ERR_MISMATCH", "DSV4_ERR_BAD_MANIFEST")


def get_kernel(config, device):
    """The loaded dsv4.Kernel of `config` on `device`: a chip name (loaded on the current
    device) or a torch device. One module per (device, configuration), shared by threads.
    Raises KernelNotFound (see find_kernel), ValueError naming the code object when it is not
    its library or cache entry's kernel (check_kernel), or Dsv4Error naming the file the runtime
    cannot load (a cache entry's is compiled again first, once, when the compiler is found)."""
    chip, device_key, activate = _resolve_device(device)
    key = (device_key, config)
    with _loaded_guard:
        kernel = _loaded.get(key)
    if kernel is not None:
        return kernel
    with _lock_for(key):
        with _loaded_guard:
            kernel = _loaded.get(key)
        if kernel is None:
            kernel = _load(config, chip, activate)
            with _loaded_guard:
                _loaded[key] = kernel
    return kernel


def _load(config, chip, activate):
    """The kernel of `config` loaded on the device `activate` makes current. A cache entry the
    runtime cannot load (a truncated or overwritten code object) or whose code object is not its
    kernel (check_kernel) is compiled again, once, when the compiler is found."""
    from .runtime import Dsv4Error
    files = find_kernel(config, chip)
    try:
        return _load_files(files, config, chip, activate)
    except (Dsv4Error, ValueError) as e:
        bad_file = not isinstance(e, Dsv4Error) or e.status in _BAD_FILE_STATUSES
        compiler = _compiler() if files.origin == "cache" and bad_file else None
        if compiler is None:
            raise
    with _lock_for((config, chip)):
        files = _compile_into_cache(config, chip, compiler, replace=True)
    return _load_files(files, config, chip, activate)


def _load_files(files, config, chip, activate):
    from .runtime import Dsv4Error, Kernel
    manifest = read_manifest(files.manifest)
    if manifest[_abi.CHIP] != chip or not config.matches(manifest):
        raise KernelNotFound(f"'{files.manifest}' is not a kernel for {config} on "
                             f"{chip}: the library index or cache is stale")
    with activate():
        try:
            kernel = Kernel(str(files.binary))
        except Dsv4Error as e:
            # The shim does not always say which file (an empty image, a bad embedded manifest).
            detail = str(e)[len(e.status) + 2:] if str(e).startswith(e.status) else str(e)
            raise Dsv4Error(e.status, f"cannot load the {files.origin} kernel "
                                      f"'{files.binary}': {detail}") from None
    try:  # a file replaced under its entry must not launch as the entry's kernel
        check_kernel(kernel, config, name=manifest[_abi.KERNEL])
    except ValueError:
        kernel.close()
        raise
    # What the kernel was compiled for, for the per-call checks of the torch op.
    kernel.config = Config.from_manifest(manifest)
    return kernel


def _loaded_identity(kernel):
    """The configuration facts of a loaded kernel, as the shim read them from the manifest
    inside its code object (which must give back its digest), in _config_identity's terms."""
    return {_abi.MODE: kernel.mode, _abi.HEAD_DIM: kernel.head_dim, _abi.ROPE_DIM: kernel.rope_dim,
            _abi.KV_DTYPE: kernel.kv_dtype, _abi.WEIGHT_DTYPE: kernel.weight_dtype,
            _abi.RATIO: kernel.ratio, _abi.ROTATE: kernel.rotate, _abi.EPS: kernel.eps,
            _abi.SCALE: kernel.scale if kernel.rotate else None, _abi.LAYOUT: kernel.layout,
            _abi.PAGE_SIZE: kernel.page_size,
            _abi.OVERLAP: kernel.overlap if kernel.mode == COMPRESS_MODE else None,
            _abi.STATE_BLOCK_SIZE: kernel.state_block_size or None,
            _abi.OUT_LOC_DTYPE: kernel.out_loc_dtype}


def _config_identity(config):
    """Every fact of `config` a call relies on: eps and scale as the kernel holds them (f32; a
    kernel that does not rotate has no scale), the page size of a store only (the shim reports
    0 for an in-place kernel)."""
    return {_abi.MODE: config.mode, _abi.HEAD_DIM: config.head_dim, _abi.ROPE_DIM: config.rope_dim,
            _abi.KV_DTYPE: config.kv_dtype, _abi.WEIGHT_DTYPE: config.weight_dtype,
            _abi.RATIO: config.ratio, _abi.ROTATE: config.rotate, _abi.EPS: _f32(config.eps),
            _abi.SCALE: config.effective_scale if config.rotate else None,
            _abi.LAYOUT: config.layout,
            _abi.PAGE_SIZE: config.page_size if config.layout else 0, _abi.OVERLAP: config.overlap,
            _abi.STATE_BLOCK_SIZE: config.state_block_size,
            _abi.OUT_LOC_DTYPE: config.out_loc_dtype if config.layout else None}


def check_kernel(kernel, config, name=None):
    """Raises ValueError naming the code object unless the loaded `kernel` computes what
    `config` asks (every fact of _config_identity: a ratio-128 kernel on a ratio-4 layer would
    silently read the wrong RoPE positions, a store kernel of another layout or page size would
    write the wrong cache bytes) and, when `name` is given (its library or cache entry's), is
    that kernel. The facts are the shim's, read from the code object itself."""
    where = f"'{kernel.path}'" if kernel.path else "a code object loaded from memory"
    if name is not None and kernel.name != name:
        raise ValueError(f"dsv4: {where} holds kernel '{kernel.name}', its library or cache "
                         f"entry names '{name}': the entry's file was replaced")
    loaded = _loaded_identity(kernel)
    for field, asked in _config_identity(config).items():
        if loaded[field] != asked:
            raise ValueError(f"dsv4: kernel '{kernel.name}' in {where} has {field}="
                             f"{loaded[field]}, the call asks {field}={asked}")


class _NoDevice:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def chip_of(device):
    """The chip dsv4 compiles for ("gfx942", "sm_90") of a chip name or torch device."""
    return _resolve_device(device)[0]


def _resolve_device(device):
    """(chip, cache key, context manager making it current) for a chip name or torch device."""
    if isinstance(device, str) and not device.startswith(("cuda", "hip")):
        return device, device, _NoDevice
    import torch
    device = torch.device(device)
    if device.type != "cuda":
        raise ValueError(f"dsv4 kernels run on GPU devices, not {device}")
    index = device.index if device.index is not None else torch.cuda.current_device()
    props = torch.cuda.get_device_properties(index)
    arch = getattr(props, "gcnArchName", "") if torch.version.hip else ""
    chip = arch.split(":")[0] if arch else f"sm_{props.major}{props.minor}"
    return chip, ("cuda", index), lambda: torch.cuda.device(index)
