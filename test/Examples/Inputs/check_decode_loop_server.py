#!/usr/bin/env python3
"""examples/decode_loop_server.py's whole run in numpy on the CPU, with dsv4's kernels emulated
from SPEC.md (the epilogue by decode_loop_model.model_finish, rounded to f32 once; the bytes by
python/dsv4_reference/store_model.py): a right run passes every check; a corrupted byte, a store
of a row between boundaries, a store one slot off and an epilogue at the wrong RoPE position each
fail it. Prints the runs' summaries and one line per verdict; exits 1 on any unexpected outcome."""
import os
import struct
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "examples"))
import decode_loop_model as model  # noqa: E402
import decode_loop_server as server  # noqa: E402
from dsv4_reference import store_model  # noqa: E402

PAGE_SIZE = 8  # small pages: every request's rows span several
STEPS = 12
failures = 0


def token(layout, row, flavour):
    """store_model's (values, scales) of one finished f32 row."""
    bits = [struct.unpack("<I", struct.pack("<f", v))[0] for v in row.tolist()]
    values, scales, _ = store_model.quantize_token(layout, bits, flavour)
    return np.frombuffer(values, np.uint8), np.frombuffer(scales, np.uint8)


class Spec:
    """store_torch.py's functions, for numpy arrays, from store_model."""
    Layout = store_model.Layout

    @staticmethod
    def store_mask(layout, out_loc, active, boundary, cache_bytes):
        end = layout.slot(np.maximum(out_loc, 0))[2]
        return active & boundary & (out_loc >= 0) & (end <= cache_bytes)

    @staticmethod
    def token_bytes(layout, rows, flavour):
        pairs = [token(layout, row, flavour) for row in np.asarray(rows, np.float32)]
        return (np.stack([v for v, _ in pairs]).reshape(len(pairs), layout.row_bytes),
                np.stack([s for _, s in pairs]).reshape(len(pairs), layout.scale_bytes))

    @staticmethod
    def expected_cache(layout, before, rows, out_loc, stores, flavour):
        expected = before.copy()
        for m in np.flatnonzero(stores):
            values, scales = token(layout, np.asarray(rows[m], np.float32), flavour)
            row_at, scale_at, _ = layout.slot(int(out_loc[m]))
            expected[row_at:row_at + len(values)] = values
            expected[scale_at:scale_at + len(scales)] = scales
        return expected


class Kernels:
    """dsv4's kernels as SPEC.md defines them; `fault` makes them wrong in one way."""
    step_kind = "eager steps"

    def __init__(self, ops, fault=None):
        self.ops, self.fault = ops, fault

    def items(self, layer, handle):
        """(row, position, stores at a boundary) of each active work item; None for the others."""
        ratio, positions = layer.comp.ratio, layer.freqs.shape[0]
        shift = 1 if self.fault == "rope position" else 0
        items = []
        for m, entry in enumerate(handle.tolist()):
            if isinstance(entry, list):  # prefill plan row
                row, position, boundary = entry[0], entry[2] + 1 - ratio, True
            else:
                row, position = m, (entry - 1) // ratio * ratio
                boundary = entry % ratio == 0 or self.fault == "no boundary"
                row = row if entry > 0 else -1
            ok = row >= 0 and 0 <= position + shift < positions
            items.append((row, position + shift, boundary) if ok else None)
        return items

    def finish(self, layer, kv, handle):
        for item in self.items(layer, handle):
            if item is not None:
                row, position, _ = item
                kv[row] = model.model_finish(self.ops, layer.comp, layer.w, kv[row:row + 1],
                                             np.array([position]), layer.freqs, server.EPS)[0]

    def store(self, layer, kv, handle, out_loc):
        finished = kv.copy()
        self.finish(layer, finished, handle)
        for m, item in enumerate(self.items(layer, handle)):
            if item is None or not item[2] or out_loc[m] < 0:
                continue
            at = int(out_loc[m]) + (1 if self.fault == "slot off by one" else 0)
            values, scales = token(layer.layout, finished[item[0]], layer.flavour)
            row_at, scale_at, end = layer.layout.slot(at)
            if end <= layer.cache.shape[0]:
                layer.cache[row_at:row_at + len(values)] = values
                layer.cache[scale_at:scale_at + len(scales)] = scales

    def flavour(self, layer):
        return None if layer.comp.layout == "indexer_mxfp4" else "fn"

    def capture(self, step):
        step()
        return step

    def sync(self):
        pass


def run(names, fault=None, corrupt=False, steps=STEPS):
    lines = []
    ops = model.NumpyOps(3)
    report = server.run(ops, Spec, Kernels(ops, fault), names, steps, PAGE_SIZE, 3,
                        server.Report(lines.append), corrupt)
    return report, lines


def verdict(ok, line):
    global failures
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {line}")


def main():
    report, lines = run(list(model.COMPRESSORS))
    print("\n".join(lines))
    verdict(report.failed == 0 and report.differ == 0 and report.compared > 0,
            f"the right kernels pass: {report.summary()}")
    report, lines = run(["indexer"], corrupt=True)
    verdict(report.failed == 1 and report.differ == 1 and any(
        "every cache byte at the end of the run" in line and "1 differ" in line for line in lines),
            f"--corrupt fails the final comparison: {report.summary()}")
    for fault, names in (("no boundary", ["indexer", "main_c128"]),
                         ("slot off by one", ["indexer_mxfp4"]),
                         ("rope position", ["main_c4"])):
        report, lines = run(names, fault)
        failed = [line for line in lines if line.startswith("FAIL")]
        verdict(report.failed > 0, f"kernels with '{fault}' fail: {report.summary()}; "
                                   f"first: {failed[0] if failed else None}")
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
