"""Finding the compiled kernels: the manifests (docs/ABI.md) in an objects directory, by target."""
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


def config_key(m):
    """What distinguishes one compiled configuration from another for the tests."""
    return (m["mode"], bool(m["rotate"]), m["kv_dtype"], int(m["head_dim"]), int(m["rope_dim"]))


def describe(key):
    mode, rotate, kv_dtype, d, r = key
    return f"{mode:<7} rot={int(rotate)} {kv_dtype:<4} D={d:<4} R={r}"
