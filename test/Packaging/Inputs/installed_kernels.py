"""Loads kernels of one chip from the library an installed dsv4 package carries, as a serving
process does: dsv4.get_kernel by configuration, with no $DSV4_KERNEL_DIR, no cache and no
compiler (the caller's environment has none), through the fake HIP / fake CUDA (one device, so
one chip a process). Prints one line per kernel: chip, kernel name, where find_kernel found it
(relative to the installed package) and the name the shim read from the loaded code object.

  installed_kernels.py CHIP             every kernel of CHIP the package's indexes list
  installed_kernels.py CHIP EXPECTED    the kernels of CHIP named in EXPECTED ("<chip> <kernel>"
                                        lines); one the package lacks is a "missing" line
  installed_kernels.py CHIP --config MODE D [field=json ...]
                                        one configuration (dsv4.Config's fields)
"""
import json
import sys
from pathlib import Path

import dsv4
from dsv4 import library


def packaged_manifests(chip):
    """{kernel name: manifest path} of every kernel for `chip` the package's indexes list."""
    found = {}
    for name in library.library_files(library.PACKAGE_LIBRARY):
        if name.name != library.INDEX_NAME:
            continue
        folder = library.PACKAGE_LIBRARY / name.parent
        for entry in json.loads((folder / name.name).read_text())["kernels"]:
            if entry["chip"] == chip:
                found[entry["kernel"]] = folder / entry["manifest"]
    return found


def where(path):
    """`path` relative to the installed package, or as it is when outside it."""
    package = Path(dsv4.__file__).parent
    return f"dsv4/{path.relative_to(package)}" if path.is_relative_to(package) else str(path)


def load(config, chip):
    files = dsv4.find_kernel(config, chip, compile=False)
    kernel = dsv4.get_kernel(config, chip)
    return f"{files.origin} {where(files.binary)} loaded {kernel.name}"


def main(chip, *args):
    if args[:1] == ("--config",):
        mode, head_dim, *fields = args[1:]
        values = {k: json.loads(v) for k, v in (f.split("=", 1) for f in fields)}
        config = dsv4.Config(mode=mode, head_dim=int(head_dim), **values)
        try:
            print(chip, config, load(config, chip))
        except dsv4.KernelNotFound as e:
            print("not found:", e)
        return 0
    manifests = packaged_manifests(chip)
    if args:
        lines = Path(args[0]).read_text().split("\n")
        wanted = [name for c, name in (line.split() for line in lines if line) if c == chip]
    else:
        wanted = sorted(manifests)
    loaded = 0
    for name in wanted:
        if name not in manifests:
            print("missing", chip, name)
            continue
        config = dsv4.Config.from_manifest(dsv4.read_manifest(manifests[name]))
        print(chip, name, load(config, chip))
        loaded += 1
    print(f"{chip}: {loaded} of {len(wanted)} kernels loaded from the package; cache "
          f"{'written' if library.cache_dir().exists() else 'untouched'}")
    return 0 if loaded == len(wanted) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
