"""Kernels by configuration: a prebuilt library with an index, and an on-disk JIT cache.

A configuration is an in-place epilogue (layout None) or a fused store into a paged cache of one
layout (FP8 indexer or main, MXFP4 indexer) and page size; matching is exact, so one never stands
in for the other.
get_kernel(config, device) returns the loaded dsv4.Kernel for a configuration. It looks, in
order, in the libraries named by $DSV4_KERNEL_DIR (os.pathsep-separated folders holding an
index.json written by `scripts/run` or write_index, each followed by its store/ subfolder with its
own index.json; default: the checkout's out/), in the on-disk cache ($DSV4_CACHE_DIR,
default ~/.cache/dsv4, keyed by configuration, chip and dsv4 version), and finally compiles the
configuration into that cache with dsv4-gen and dsv4-opt when they can be found ($DSV4_BIN_DIR,
PATH, or the repository's build/bin). Everything but the final load needs no GPU driver.
"""
import dataclasses
import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
from pathlib import Path

from .version import __version__

__all__ = ["Config", "KernelFiles", "KernelNotFound", "check_kernel", "chip_of", "find_kernel",
           "get_kernel", "library_kernels", "read_manifest", "write_index"]

INDEX_NAME = "index.json"
STORE_SUBFOLDER = "store"
# 2: entries carry `layout` (null for an in-place kernel) and a store kernel's `page_size`; a
# version-1 index may list a store kernel as an in-place one, so it is refused, not guessed.
INDEX_FORMAT = "dsv4-index-2"
MANIFEST_FORMAT = "dsv4-manifest-1"
_KV_DTYPES = ("f32", "bf16", "f16")
_WEIGHT_DTYPES = ("f32", "bf16")
# SPEC.md "Storing into the paged caches": the FP8 layouts, then the MXFP4 indexer's (e2m1).
_FP8_LAYOUTS = ("indexer", "main")
_LAYOUTS = (*_FP8_LAYOUTS, "indexer_mxfp4")
DEFAULT_PAGE_SIZE = 64          # dsv4-gen's --page-size default
_REPO_ROOT = Path(__file__).resolve().parents[2]


class KernelNotFound(RuntimeError):
    """No library, cache entry or compiler could provide the kernel."""


def _f32(value):
    """value rounded to f32, as the kernel compiles it in (and the manifest records it)."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


@dataclasses.dataclass(frozen=True)
class Config:
    """One kernel configuration; the fields of dsv4-gen's options and of the manifest."""
    mode: str                   # "decode" (seq_lens [B]) or "prefill" (plan [M, 4])
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

    def __post_init__(self):
        # Names only; dsv4-gen checks the numeric limits (D, R, eps) when it compiles.
        problems = []
        if self.mode not in ("decode", "prefill"):
            problems.append(f"mode {self.mode!r} is not decode or prefill")
        if self.kv_dtype not in _KV_DTYPES:
            problems.append(f"kv dtype {self.kv_dtype!r} is not one of {_KV_DTYPES}")
        if self.weight_dtype not in _WEIGHT_DTYPES:
            problems.append(f"weight dtype {self.weight_dtype!r} is not one of {_WEIGHT_DTYPES}")
        if self.ratio <= 0:
            problems.append(f"ratio {self.ratio} is not positive")
        if self.layout is not None and self.layout not in _LAYOUTS:
            problems.append(f"layout {self.layout!r} is not None (in place) or one of {_LAYOUTS}")
        if isinstance(self.page_size, bool) or not isinstance(self.page_size, int) or \
                self.page_size <= 0 or self.page_size & (self.page_size - 1):
            problems.append(f"page size {self.page_size!r} is not a positive power of two")
        elif self.layout is None and self.page_size != DEFAULT_PAGE_SIZE:
            # Two equal in-place configurations must compare (and key) equal.
            problems.append(f"page size {self.page_size} is given to an in-place configuration "
                            f"(it needs a layout)")
        if problems:
            raise ValueError(f"invalid dsv4 configuration {self}: " + "; ".join(problems))

    @property
    def effective_scale(self):
        return _f32(self.head_dim ** -0.5 if self.scale is None else self.scale)

    def __str__(self):
        text = (f"{self.mode} D={self.head_dim} R={self.rope_dim} kv={self.kv_dtype} "
                f"weight={self.weight_dtype} eps={self.eps:g} ratio={self.ratio} "
                f"rotate={self.rotate}")
        text += f" scale={self.scale:g}" if self.scale is not None else ""
        return text + (f" layout={self.layout} page_size={self.page_size}" if self.layout else "")

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
        return args

    def key(self):
        """A name for the configuration, stable across processes (the cache's folder)."""
        fields = (self.mode, self.head_dim, self.rope_dim, self.kv_dtype, self.weight_dtype,
                  _f32(self.eps), self.ratio, self.rotate,
                  self.effective_scale if self.rotate else None)
        if self.layout:  # in-place keys stay as they were before the store existed
            fields += (self.layout, self.page_size)
        return hashlib.sha256(repr(fields).encode()).hexdigest()[:20]

    def matches(self, manifest):
        """Whether a manifest (read_manifest's dict) is a kernel for this configuration."""
        m = manifest
        return (m["mode"] == self.mode and m["head_dim"] == self.head_dim
                and m["rope_dim"] == self.rope_dim and m["kv_dtype"] == self.kv_dtype
                and m["weight_dtype"] == self.weight_dtype and m["ratio"] == self.ratio
                and m["rotate"] == self.rotate and _f32(m["eps"]) == _f32(self.eps)
                and (not self.rotate or _f32(m["scale"]) == self.effective_scale)
                and m.get("layout") == self.layout
                and (self.layout is None or m["page_size"] == self.page_size))

    @classmethod
    def from_manifest(cls, manifest):
        m = manifest
        return cls(mode=m["mode"], head_dim=m["head_dim"], rope_dim=m["rope_dim"],
                   kv_dtype=m["kv_dtype"], weight_dtype=m["weight_dtype"], eps=m["eps"],
                   ratio=m["ratio"], rotate=m["rotate"],
                   scale=m["scale"] if m["rotate"] else None, layout=m.get("layout"),
                   page_size=m.get("page_size", DEFAULT_PAGE_SIZE))


_MANIFEST_KEYS = ("kernel", "binary", "chip", "mode", "rotate", "head_dim", "rope_dim",
                  "ratio", "eps", "scale", "kv_dtype", "weight_dtype")
# A store kernel's manifest has these too (docs/ABI.md), and fp8_type for an FP8 layout; an
# in-place one has none of them.
_STORE_KEYS = ("layout", "page_size", "cache_align")
# What an index entry holds besides "manifest": the fields Config.matches reads.
_INDEX_KEYS = ("binary", "chip", *(k for k in _MANIFEST_KEYS if k not in ("binary", "chip")),
               "layout", "page_size")


def read_manifest(path):
    """The manifest at `path` as a dict, checked for the keys this module reads; needs no
    GPU driver and no runtime shim."""
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read dsv4 manifest '{path}': {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"'{path}' is not a {MANIFEST_FORMAT} manifest")
    missing = [k for k in _MANIFEST_KEYS if k not in manifest]
    if "layout" in manifest:
        missing += [k for k in _STORE_KEYS if k not in manifest]
        if manifest["layout"] in _FP8_LAYOUTS and "fp8_type" not in manifest:
            missing.append("fp8_type")
    if missing:
        raise ValueError(f"manifest '{path}' lacks {', '.join(missing)}")
    return manifest


@dataclasses.dataclass(frozen=True)
class KernelFiles:
    binary: Path
    manifest: Path
    origin: str                 # "library", "cache" or "compiled"


def write_index(folder):
    """Writes folder/index.json listing every manifest in `folder`; returns the entry count."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"'{folder}' is not a folder of dsv4 kernels")
    entries = []
    for path in sorted(folder.glob("*.json")):
        if path.name == INDEX_NAME:
            continue
        m = read_manifest(path)
        entries.append({"manifest": path.name, **{k: m.get(k) for k in _INDEX_KEYS}})
    index = {"format": INDEX_FORMAT, "version": __version__, "kernels": entries}
    _write_atomically(folder / INDEX_NAME, json.dumps(index, indent=1) + "\n")
    return len(entries)


def _write_atomically(path, text):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _library_dirs():
    dirs = [Path(d) for d in os.environ.get("DSV4_KERNEL_DIR", "").split(os.pathsep) if d]
    return dirs or [_REPO_ROOT / "out"]


def _index_folders():
    """Each library folder, then its store/ subfolder: scripts/run keeps the store kernels apart
    because the device tools (check_numerics.py, bench/) take every manifest of a library folder
    for an in-place kernel."""
    for folder in _library_dirs():
        yield folder
        yield folder / STORE_SUBFOLDER


def _index_entries(chip):
    """(folder, entry) of every kernel for `chip` in the libraries' indexes, in search order."""
    for folder in _index_folders():
        path = folder / INDEX_NAME
        try:
            with open(path) as f:
                index = json.load(f)
        except (FileNotFoundError, NotADirectoryError):
            continue  # a library folder not built yet is no error; a broken index is
        except (OSError, ValueError) as e:
            raise ValueError(f"cannot read dsv4 kernel index '{path}': {e}") from None
        if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
            raise ValueError(f"'{path}' is not a {INDEX_FORMAT} index (rewrite it with "
                             f"`python3 -m dsv4 --index {folder}`)")
        for entry in index["kernels"]:
            if entry["chip"] == chip:
                yield folder, entry


def _find_in_library(config, chip):
    for folder, entry in _index_entries(chip):
        if config.matches(entry):
            return KernelFiles(folder / entry["binary"], folder / entry["manifest"], "library")
    return None


def library_kernels(chip):
    """The manifests of every library kernel for `chip` (what a device proof iterates over)."""
    return [read_manifest(folder / entry["manifest"]) for folder, entry in _index_entries(chip)]


def cache_dir():
    return Path(os.environ.get("DSV4_CACHE_DIR") or Path.home() / ".cache" / "dsv4")


def _cache_entry(config, chip):
    return cache_dir() / __version__ / chip / config.key()


def _find_in_cache(config, chip):
    folder = _cache_entry(config, chip)
    for manifest in sorted(folder.glob("*.json")):
        m = read_manifest(manifest)
        if m["chip"] == chip and config.matches(m):
            return KernelFiles(folder / m["binary"], manifest, "cache")
    return None


def _tool(name):
    """dsv4-gen / dsv4-opt: $DSV4_BIN_DIR, else PATH, else the repository's build."""
    bin_dir = os.environ.get("DSV4_BIN_DIR")
    if bin_dir:
        path = Path(bin_dir) / name
        return str(path) if os.access(path, os.X_OK) else None
    found = shutil.which(name)
    if found:
        return found
    path = _REPO_ROOT / "build" / "bin" / name
    return str(path) if os.access(path, os.X_OK) else None


def _compile_into_cache(config, chip):
    gen, opt = _tool("dsv4-gen"), _tool("dsv4-opt")
    if not gen or not opt:
        return None
    final = _cache_entry(config, chip)
    final.parent.mkdir(parents=True, exist_ok=True)
    # Compile into a private folder and rename it into place: a reader (another thread or
    # process) sees a complete entry or none.
    work = Path(tempfile.mkdtemp(dir=final.parent, prefix=final.name + ".tmp"))
    try:
        ir = subprocess.run([gen, *config.gen_args(chip)], capture_output=True, text=True)
        if ir.returncode != 0:
            raise KernelNotFound(f"dsv4-gen refused configuration {config}: {ir.stderr.strip()}")
        out = subprocess.run([opt, "-", f"--dsv4-compile=chip={chip} output-dir={work}",
                              "-o", os.devnull], input=ir.stdout, capture_output=True, text=True)
        if out.returncode != 0:
            raise KernelNotFound(f"dsv4-opt could not compile {config} for {chip}: "
                                 f"{out.stderr.strip()}")
        try:
            os.rename(work, final)
        except OSError:
            if not final.is_dir():  # not a concurrent compile that won the race
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    found = _find_in_cache(config, chip)
    return dataclasses.replace(found, origin="compiled") if found else None


_locks_guard = threading.Lock()
_locks = {}


def _lock_for(key):
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def find_kernel(config, chip, *, compile=True):
    """The code object and manifest of `config` for `chip` ("gfx942", "gfx950", "sm_90"):
    from a library, else the cache, else (when `compile` and the compiler is found) compiled
    into the cache. Needs no GPU driver. Raises KernelNotFound naming the configuration."""
    with _lock_for((config, chip)):
        found = _find_in_library(config, chip) or _find_in_cache(config, chip)
        if found is None and compile:
            found = _compile_into_cache(config, chip)
    if found is None:
        why = ("dsv4-gen/dsv4-opt were not found to compile it" if compile
               else "compiling was not asked for")
        raise KernelNotFound(
            f"no dsv4 kernel for {config} on {chip}: none in the libraries "
            f"{[str(d) for d in _library_dirs()]} ($DSV4_KERNEL_DIR) nor in the cache "
            f"{cache_dir()}, and {why}. Build it with "
            f"`dsv4-gen {' '.join(config.gen_args(chip))} | dsv4-opt - "
            f"--dsv4-compile=\"chip={chip} output-dir=DIR\" -o /dev/null` and add DIR to "
            f"$DSV4_KERNEL_DIR after `python3 -m dsv4 --index DIR`, or put dsv4-opt "
            f"and dsv4-gen on PATH (or $DSV4_BIN_DIR).")
    return found


_loaded_guard = threading.Lock()
_loaded = {}


def get_kernel(config, device):
    """The loaded dsv4.Kernel of `config` on `device`: a chip name (loaded on the current
    device) or a torch device. One module per (device, configuration), shared by threads."""
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
            from .runtime import Kernel
            files = find_kernel(config, chip)
            manifest = read_manifest(files.manifest)
            if manifest["chip"] != chip or not config.matches(manifest):
                raise KernelNotFound(f"'{files.manifest}' is not a kernel for {config} on "
                                     f"{chip}: the library index or cache is stale")
            with activate():
                kernel = Kernel(str(files.binary))
            # What the kernel was compiled for, for the per-call checks of the torch op.
            kernel.config = Config.from_manifest(manifest)
            with _loaded_guard:
                _loaded[key] = kernel
    return kernel


def check_kernel(kernel, config):
    """Raises ValueError unless the loaded `kernel` (from get_kernel) computes what `config`
    asks: a ratio-128 kernel on a ratio-4 layer would silently read the wrong RoPE positions,
    and a store kernel of another layout or page size would write the wrong cache bytes."""
    compiled = kernel.config
    for field in ("ratio", "rotate", "mode", "layout", "page_size"):
        if getattr(compiled, field) != getattr(config, field):
            raise ValueError(f"dsv4: kernel '{kernel.name}' has {field}="
                             f"{getattr(compiled, field)}, the call asks {field}="
                             f"{getattr(config, field)}")
    # The shim's own reading of the manifest, in case the files changed under the index; it
    # reports a page size for store kernels only.
    page_size = config.page_size if config.layout else 0
    if kernel.mode != config.mode or kernel.rotate != config.rotate or \
            kernel.page_size != page_size:
        raise ValueError(f"dsv4: kernel '{kernel.name}' reports mode={kernel.mode} "
                         f"rotate={kernel.rotate} page_size={kernel.page_size}, the call asks "
                         f"{config}")


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
