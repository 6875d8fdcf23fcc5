#!/usr/bin/env python3
"""examples/decode_loop_model.py in numpy on the CPU: the schedule, the framework's pooling from a
paged state cache against the model's whole-sequence compressor, the model's epilogue against
other formulations, and the byte and code checks, each also on a wrong input or a wrong model,
which it must reject. Prints one line per check; exits 1 on any failure."""
import math
import os
import struct
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
sys.path.insert(0, os.path.join(ROOT, "examples"))
import decode_loop_model as model  # noqa: E402
from dsv4_reference.store_model import Layout, quantize_token  # noqa: E402

failures = 0


def check(ok, line):
    global failures
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {line}")


def check_schedule():
    batches = model.prefill_batches([5, 0, 9], 4)
    flat = [t for b in batches for t in b]
    check(flat == [(0, p) for p in range(5)] + [(2, p) for p in range(9)]
          and all(len(b) <= 4 for b in batches) and len(batches) == 4,
          "prefill_batches: every prompt token once, in order, at most a chunk a batch")
    check([model.compressed_index(p, 4) for p in range(9)] == [0, 0, 0, 0, 1, 1, 1, 1, 2],
          "compressed_index: the finished row at a window end, else the next one")
    table, pages = model.paged_table([130, 1, 64], 64, seed=3)
    owned = [pg for row in table[1:] for pg in row if pg]
    check(table[model.PADDING_ROW] == [0, 0, 0] and pages == 1 + 3 + 1 + 1
          and sorted(owned) == list(range(1, pages)),
          f"paged_table: page 0 is the padding row's only, each other page one request's: {table}")
    slots = {model.slot(table, r, k, 64) for r, n in enumerate([130, 1, 64]) for k in range(n)}
    check(len(slots) == 195 and min(slots) >= 64, "slot: distinct, none in page 0")


class Server:
    """The example's serving path (prefill in chunks, then decode steps) with numpy arrays."""

    def __init__(self, ops, comp, prompt_lens, steps, chunk, dtype):
        self.ops, self.comp = ops, comp
        self.total = [n + steps for n in prompt_lens]
        self.w = model.random_weights(ops, comp, 16)
        self.xs = [ops.randn((n, 16)) for n in self.total]
        table, blocks = model.paged_table(self.total, 8, seed=1)
        self.table = np.array(table, dtype=np.int32)
        # NaN where no token was written: reading such a row would show in every check.
        self.state = np.full((blocks, 8, 2 * comp.width), np.nan, dtype=dtype)
        self.rows = {}
        for tokens in model.prefill_batches(prompt_lens, chunk):
            self.run(tokens)
        for step in range(steps):
            self.run([(r, n + step) for r, n in enumerate(prompt_lens)])

    def run(self, tokens):
        rows = np.array([1 + r for r, _ in tokens])
        positions = np.array([p for _, p in tokens])
        x = np.stack([self.xs[r][p] for r, p in tokens]).astype(self.state.dtype)
        model.append_state(self.ops, self.comp, self.w, self.state, self.table, rows, positions, x)
        y = model.pool(self.ops, self.comp, self.state, self.table, rows, positions)
        for (r, p), row in zip(tokens, y):
            if model.is_window_end(p, self.comp.ratio):
                self.rows[r, model.compressed_index(p, self.comp.ratio)] = row

    def against_model(self):
        """The largest error of the pooled rows against model_pool, and whether every row of
        the run was pooled."""
        errors, complete = [0.0], True
        for r, x in enumerate(self.xs):
            want = model.model_pool(self.ops, self.comp, self.w, x)
            got = np.stack([self.rows[r, k] for k in range(want.shape[0])]) if want.shape[0] \
                else want
            complete &= all((r, k) in self.rows for k in range(want.shape[0]))
            errors.append(model.row_error(self.ops, got, want))
        rows = sum(n // self.comp.ratio for n in self.total)
        return float(np.max(errors)), complete and len(self.rows) == rows


def check_pool():
    # A prompt shorter than a window, one split across chunks mid-window, one past a ratio-128
    # boundary in prefill; decode steps across boundaries.
    for name in ("indexer", "main_c128"):
        comp = model.COMPRESSORS[name]
        for dtype, bound in ((np.float64, 1e-12), (np.float32, model.ROW_TOLERANCE)):
            server = Server(model.NumpyOps(7), comp, [3, 150, 41, 120], 30, 64, dtype)
            error, complete = server.against_model()
            check(complete and error <= bound,
                  f"{name}: pooled from the paged state ({np.dtype(dtype).name}) == the model's "
                  f"whole-sequence compressor: error {error:.1e} <= {bound:g}")


def check_pool_rejects_wrong_models():
    """Each wrong model of the compressor must disagree with the paged path."""
    comp = model.COMPRESSORS["indexer"]
    right_overlap, right_pool = model.overlap, model.softmax_pool

    def no_overlap(ops, t, d, fill):  # this window's tokens only, first D channels
        return t[:, :, :d]

    def swapped_halves(ops, t, d, fill):  # the previous window's last D channels
        previous = ops.cat([ops.full_like(t[:1, :, d:], fill), t[:-1, :, d:]], 0)
        return ops.cat([previous, t[:, :, :d]], 1)

    def mean_pool(ops, kv, score, axis):  # no gate: the plain mean of the present tokens
        return np.nanmean(np.where(np.isinf(score), np.nan, kv), axis=axis)

    server = Server(model.NumpyOps(7), comp, [3, 40], 9, 16, np.float64)
    for label, overlap, pool in (("no overlap", no_overlap, right_pool),
                                 ("swapped halves", swapped_halves, right_pool),
                                 ("mean instead of softmax", right_overlap, mean_pool)):
        model.overlap, model.softmax_pool = overlap, pool
        try:
            error, _ = server.against_model()
        finally:
            model.overlap, model.softmax_pool = right_overlap, right_pool
        check(error > 1e-3, f"a wrong model ({label}) is told apart: error {error:.2e}")


def check_finish():
    ops = model.NumpyOps(5)
    rng = np.random.default_rng(5)
    for name in ("indexer", "main_c4"):
        comp = model.COMPRESSORS[name]
        d, r = comp.head_dim, comp.rope_dim
        w = model.random_weights(ops, comp, 16)
        y = rng.standard_normal((3, d))
        theta = rng.uniform(0, 2 * math.pi, (3 * comp.ratio, r // 2))
        freqs = np.stack([np.cos(theta), np.sin(theta)], axis=-1).reshape(-1, r)
        at = np.arange(3) * comp.ratio
        got = model.model_finish(ops, comp, w, y, at, freqs, 1e-6)
        # Independently: RMSNorm, RoPE as a complex product, the Hadamard matrix of Sylvester's
        # construction (a Kronecker power of [[1, 1], [1, -1]]).
        want = y / np.sqrt(np.mean(y * y, axis=1, keepdims=True) + 1e-6) * w.norm
        tail = want[:, d - r:].reshape(3, -1, 2)
        c = freqs[np.arange(3) * comp.ratio].reshape(3, -1, 2)
        product = (tail[..., 0] + 1j * tail[..., 1]) * (c[..., 0] + 1j * c[..., 1])
        want[:, d - r:] = np.stack([product.real, product.imag], axis=-1).reshape(3, r)
        if comp.rotate:
            hmat = np.array([[1.0]])
            while hmat.shape[0] < d:
                hmat = np.kron(np.array([[1.0, 1.0], [1.0, -1.0]]), hmat)
            want = want @ hmat.T * d ** -0.5
        error = model.row_error(ops, got, want)
        check(error <= 1e-12, f"{name}: model_finish == norm, complex RoPE, Hadamard matrix: "
                              f"error {error:.1e}")
        shifted = model.model_finish(ops, comp, w, y, at + 1, freqs, 1e-6)
        check(model.row_error(ops, shifted, want) > 1e-3,
              f"{name}: RoPE at the wrong positions is told apart")


def check_bytes():
    ops = model.NumpyOps(0)
    want = (np.arange(1000) * 37 + 11).astype(np.uint8)
    ok, line, compared, differ = model.bytes_verdict(ops, "same", want.copy(), want)
    check(ok and compared == 1000 and differ == 0, f"bytes_verdict of equal caches: {line}")
    got = want.copy()
    got[613] ^= 1
    ok, line, compared, differ = model.bytes_verdict(ops, "flipped", got, want)
    check(not ok and differ == 1 and "first at byte 613" in line,
          f"bytes_verdict of one flipped byte: {line}")


def token(layout, rows):
    """store_model's (values, scales) [N, bytes] of f32 rows."""
    values, scales = [], []
    for row in rows.astype(np.float32):
        bits = [struct.unpack("<I", struct.pack("<f", v))[0] for v in row.tolist()]
        v, s, _ = quantize_token(layout, bits, "fn")
        values.append(list(v))
        scales.append(list(s))
    return np.array(values, dtype=np.uint8), np.array(scales, dtype=np.uint8)


def check_codes():
    ops = model.NumpyOps(0)
    rng = np.random.default_rng(11)
    for name in ("indexer", "main", "indexer_mxfp4"):
        layout = Layout(name, 64)
        rows = rng.standard_normal((6, layout.head_dim))
        want = token(layout, rows)
        near = token(layout, rows * (1 + 3e-7))
        distance = model.code_distance(ops, layout, near, want)
        check(model.distance_verdict(layout, distance),
              f"{name}: rows 3e-7 apart are within one step: {distance}")
        far = (want[0].copy(), want[1])
        if layout.e2m1:
            far[0][2, 5] = (far[0][2, 5] & 0xF0) | ((far[0][2, 5] & 0x7) ^ 0x2)  # magnitude +-2
        else:
            far[0][2, 5] = (far[0][2, 5] & 0x80) | ((far[0][2, 5] & 0x7F) ^ 0x2)
        distance = model.code_distance(ops, layout, far, want)
        check(not model.distance_verdict(layout, distance),
              f"{name}: a code two steps off is caught: {distance}")
    layout = Layout("main", 64)
    want = token(layout, rng.standard_normal((2, 512)))
    moved = (want[0].copy(), want[1].copy())
    moved[1][1, 3] += 1
    moved[0][1, 3 * 64:4 * 64] //= 2  # that block's codes, rescaled: not compared code by code
    distance = model.code_distance(ops, layout, moved, want)
    check(model.distance_verdict(layout, distance) and distance["scale"] == 1,
          f"main: a ue8m0 scale one step off is allowed: {distance}")
    moved[1][1, 3] += 1
    check(not model.distance_verdict(layout, model.code_distance(ops, layout, moved, want)),
          "main: a ue8m0 scale two steps off is caught")
    bf16 = (want[0].copy(), want[1])
    bf16[0][0, 448 + 2 * 7 + 1] ^= 0x01  # a rope channel's high byte: 256 bf16 steps
    check(not model.distance_verdict(layout, model.code_distance(ops, layout, bf16, want)),
          "main: a bf16 rope channel far off is caught")
    # Within the finished row's tolerance of the row's max: no step, however many bf16 steps
    # apart (a channel far below the max); past it, the steps count.
    tiny = (want[0].copy(), want[1])
    tiny[0][0, 448 + 2 * 9] ^= 0x04                        # a low mantissa bit: 4 bf16 steps
    value = float(model._bf16_values(ops, want[0], layout)[0, 9])
    small, large = np.array([[abs(value) * 1e4], [1.0]]), np.array([[abs(value)], [1.0]])
    check(model.distance_verdict(layout, model.code_distance(ops, layout, tiny, want, small)),
          "main: a bf16 channel 4 steps apart within the row tolerance is allowed")
    check(not model.distance_verdict(layout, model.code_distance(ops, layout, tiny, want, large)),
          "main: the same 4 steps past the row tolerance are caught")
    check(not model.distance_verdict(layout, model.code_distance(ops, layout, bf16, want, small)),
          "main: a bf16 rope channel far off is caught with the row's max given")


def main():
    check_schedule()
    check_pool()
    check_pool_rejects_wrong_models()
    check_finish()
    check_bytes()
    check_codes()
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
