"""Finding the compiled kernels: the manifests (docs/ABI.md) in an objects directory, by target."""
import argparse
import glob
import json
import os

PTX_TARGET = "nvptx64-nvidia-cuda"
AMD_TARGET = "amdgcn-amd-amdhsa"


def manifests(objects_dir, target):
    """(manifest dict, binary path, manifest path) for every dsv4 manifest of `target`, by name."""
    found = []
    for path in sorted(glob.glob(os.path.join(objects_dir, "*.json"))):
        with open(path) as f:
            try:
                m = json.load(f)
            except json.JSONDecodeError:
                continue  # not a manifest (e.g. a bench result written beside the objects)
        if isinstance(m, dict) and m.get("format") == "dsv4-manifest-1" and m.get("target") == target:
            found.append((m, os.path.join(objects_dir, m["binary"]), path))
    return found


def in_folders(folders, target):
    """manifests() of each folder and of its store/ subfolder (where scripts/run puts the store
    and compress kernels), folder by folder."""
    return [found for folder in folders for sub in (folder, os.path.join(folder, "store"))
            for found in manifests(sub, target)]


def proof_arguments(description, argv=None):
    """The command line of the store and compress proofs: the objects folders (each searched
    with its store/ subfolder), --quick for the sanitizer runs, --seed."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--objects", nargs="+", default=["out"])
    p.add_argument("--quick", action="store_true", help="fewer, smaller batches (sanitizers)")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def config_key(m):
    """What distinguishes one compiled configuration from another for the tests."""
    return (m["mode"], bool(m["rotate"]), m["kv_dtype"], int(m["head_dim"]), int(m["rope_dim"]))


def describe(key):
    mode, rotate, kv_dtype, d, r = key
    return f"{mode:<7} rot={int(rotate)} {kv_dtype:<4} D={d:<4} R={r}"
