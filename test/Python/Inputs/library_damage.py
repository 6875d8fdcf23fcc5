"""Drives dsv4.library on damaged and hostile input in one step of library-damage.test; prints
what each call did.

  library_damage.py STEP WORKDIR
"""
import sys
from pathlib import Path

import dsv4

CHIP = "gfx942"


def outcome(fn):
    """What fn() did, in one line: its result or the error it raised."""
    try:
        return f"returned {fn()}"
    except (ValueError, dsv4.KernelNotFound, dsv4.Dsv4Error) as e:
        return f"{type(e).__name__}: {e}"
    except Exception as e:  # what the old code raised; the check lines want none of it
        return f"unexpected {type(e).__name__}: {e}"


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


STEPS = {"config": step_config}

if __name__ == "__main__":
    STEPS[sys.argv[1]](Path(sys.argv[2]))
