"""CPU checks of the compress proof's parts (no GPU needed): its random batches' plan, the torch
reference (compress_torch.py) against compress_model.py, and the code-step comparison.

Run: PYTHONPATH=python:device python3 test/Reference/test_compress_torch.py  (the plan runs
without torch; the reference and the comparison need it; judge's end-to-end check needs torch's
float8 types, torch >= 2.1).
"""
import importlib.util
import random

import compress_proof
from dsv4_reference import compress_torch
from dsv4_reference.store_model import Layout

# Manifests of the production kernels (what the proof reads of them), at state block size 64
# and a smaller one (gen_compress.py's case is viewed at both).
KERNELS = {
    "indexer": dict(layout="indexer", head_dim=128, rope_dim=64, ratio=4, overlap=True,
                    rotate=True, scale=128 ** -0.5, fp8_type="f8E4M3FN"),
    "indexer_mxfp4": dict(layout="indexer_mxfp4", head_dim=128, rope_dim=64, ratio=4,
                          overlap=True, rotate=True, scale=128 ** -0.5),
    "main4": dict(layout="main", head_dim=512, rope_dim=64, ratio=4, overlap=True, rotate=False,
                  fp8_type="f8E4M3FNUZ"),
    "main128": dict(layout="main", head_dim=512, rope_dim=64, ratio=128, overlap=False,
                    rotate=False, fp8_type="f8E4M3FN"),
}


def manifest(name, block_size=64, page_size=64):
    return dict(KERNELS[name], kernel=name, state_block_size=block_size, page_size=page_size,
                eps=1e-6)


def check(ok, text):
    print(f"{'ok  ' if ok else 'FAIL'} {text}")
    if not ok:
        raise SystemExit(f"test_compress_torch: FAILED: {text}")


def check_plan():
    """The random batches' plan (plain Python): the item count, every special item, each
    normal item's window inside its request's state, distinct block ids, the broken columns."""
    for name, items, seed in (("indexer", 1, 3), ("main128", 16, 4), ("indexer", 1000, 5),
                              ("main4", 8192, 6)):
        m = manifest(name)
        rng = random.Random(seed)
        plan = compress_proof._Plan(m, items, rng)
        table, num_blocks, owned = compress_proof._tables(plan, rng)
        ratio, n, bs = m["ratio"], plan.n, m["state_block_size"]
        check(len(plan.items) == items, f"{name} plan of {items}: {len(plan.items)} items")
        requests = len(plan.requests)
        # Normal items: a request of the table, the window's present positions held by it.
        broken = {r for r, _, _ in plan.broken}
        valid = [(r, p) for r, p in plan.items if 0 <= r < requests and r not in broken]
        outside = sum(1 for r, p in valid if 0 <= p < 2**31 and p // bs < plan.max_blocks and
                      not plan.requests[r][0] <= max(0, p - n + 1) <= p <= plan.requests[r][1])
        kinds = {"no request": sum(1 for r, _ in plan.items if r < 0),
                 "request past the table": sum(1 for r, _ in plan.items if r >= requests),
                 "padding": sum(1 for _, p in plan.items if p < 0),
                 "position past INT32_MAX": sum(1 for _, p in plan.items if p >= 2**31),
                 "window past the table's columns": sum(
                     1 for _, p in plan.items if 0 <= p < 2**31 and
                     max(0, p - n + 1) // bs >= plan.max_blocks),
                 "position past freqs": sum(
                     1 for r, p in valid if 0 <= p < 2**31 and (p + 1) % ratio == 0 and
                     p + 1 - ratio >= plan.num_positions and p // bs < plan.max_blocks)}
        expected = 1 if items >= 16 else 0
        check(outside == 0 and all(v == expected for v in kinds.values()),
              f"{name} plan of {items}: windows inside their requests' state ({outside} not),"
              f" special items {kinds}")
        ids = [block for block, *_ in owned]
        check(len(set(ids)) == len(ids) == num_blocks - compress_proof.SPARE_BLOCKS and
              all(0 <= b < num_blocks for b in ids),
              f"{name} plan of {items}: {len(ids)} owned blocks, distinct ids")
        for r, q, kind in plan.broken:
            b = table[r][q // bs]
            check(not 0 <= b < num_blocks and (b < 0) == (kind == "negative block"),
                  f"{name}: {kind} at position {q}: block id {b} of {num_blocks}")
        check(len(plan.broken) == 2 * expected, f"{name}: {len(plan.broken)} broken requests")


def model_agrees(m, batch, rng, expected=None):
    """check_model on every item of a batch."""
    expected = expected or compress_proof.expected_of(m, batch)
    ok, detail = compress_proof.check_model(m, batch, expected, rng, sample=10**9)
    return ok, detail, expected


def check_case_and_random():
    """The torch reference (cpu) against compress_model.py on every item of gen_compress.py's
    case (block sizes 64 and 4) and of random batches (padded strides too); a pooled row moved
    by 1e-6 of its max must be caught."""
    rng = random.Random(1)
    for name in ("indexer", "indexer_mxfp4", "main4", "main128"):
        for block_size in (64, 4):
            m = manifest(name, block_size)
            batch = compress_proof.case_batch(m, "cpu")
            ok, detail, expected = model_agrees(m, batch, rng)
            producing = int(expected.producing.sum())
            check(ok and 0 < producing < batch.token_req.numel(),
                  f"{name} case, block size {block_size}: {detail}")
    for name, items, padded in (("indexer", 300, True), ("main128", 200, False),
                                ("indexer_mxfp4", 64, True), ("main4", 40, True)):
        m = manifest(name)
        batch = compress_proof.random_batch(m, items, 11, padded, "cpu")
        ok, detail, expected = model_agrees(m, batch, rng)
        strides = batch.state.stride()
        width = batch.state.shape[2]
        padded_ok = (strides[1] > width and strides[0] > strides[1] * batch.state.shape[1]
                     and batch.block_table.stride(0) > batch.block_table.shape[1]) == padded
        check(ok and padded_ok and int(expected.active.sum()) > 0,
              f"{name} random {items}{batch.note}: {detail}")
        if name == "indexer":
            expected.pooled[0] += 1e-6 * expected.pooled[0].abs().max()
            ok, detail, _ = model_agrees(m, batch, rng, expected)
            check(not ok, f"{name} random {items}, a pooled row moved by 1e-6: caught ({detail})")


def _token(codes, scales):
    """(values, scales) uint8 tensors of one token."""
    import torch

    return (torch.tensor([codes], dtype=torch.uint8), torch.tensor([scales], dtype=torch.uint8))


def check_steps():
    """code_steps and steps_ok on crafted pairs of token bytes, per layout."""
    import torch

    def run(layout, got, want, rows64, flavour="fn"):
        result = compress_torch.code_steps(layout, got, want, rows64, flavour)
        return result, compress_torch.steps_ok(result)

    # Indexer: 128 FP8 codes and one f32 scale.
    layout = Layout("indexer", 64)
    rows = torch.ones(1, 128, dtype=torch.float64)
    codes = [0x38] * 128
    scale, near, far = (torch.tensor([s], dtype=torch.float32).view(torch.uint8).tolist()
                        for s in (0.5, 0.5 * (1 + 2e-6), 0.5 * (1 + 1e-4)))
    want = _token(codes, scale)
    r, ok = run(layout, want, want, rows)
    check(ok and r["code"] == 0 and r["scale_off"] == 0, f"indexer: the same bytes {r}")
    r, ok = run(layout, _token([0x39] + codes[1:], near), want, rows)
    check(ok and r["code"] == 1, f"indexer: one code a step up, scale 2e-6 off: {r}")
    r, ok = run(layout, _token(codes[:5] + [0x3A] + codes[6:], scale), want, rows)
    check(not ok and r["code"] == 2, f"indexer: one code two steps up: caught {r}")
    r, ok = run(layout, _token(codes, far), want, rows)
    check(not ok and r["scale_off"] == 1, f"indexer: scale 1e-4 off: caught {r}")
    zeros = _token([0x00] * 128, scale)
    r, ok = run(layout, _token([0x80] + [0x00] * 127, scale), zeros, rows)
    check(ok and r["code"] == 0, f"indexer: -0 against +0: no step {r}")
    r, ok = run(layout, _token([0x81] + [0x00] * 127, scale),
                _token([0x01] + [0x00] * 127, scale), rows)
    check(not ok and r["code"] == 2, f"indexer: -min against +min: two steps {r}")

    # Main: 448 FP8 codes in 7 blocks with ue8m0 scales, then 64 bf16 rope channels.
    layout = Layout("main", 64)
    rows = torch.full((1, 512), 0.25, dtype=torch.float64)
    rows[0, 0] = 448.0 * 2.0 ** -3          # block 0's max exactly on 2^-3 * FP8_MAX
    rows[0, 64] = 448.0 * 2.0 ** -3 * 1.3   # block 1's far from an edge
    rope = [0x80, 0x3E] * 64                 # bf16 0.25
    codes = [0x30] * 448
    e = [124] * 7
    want = _token(codes + rope, e)
    r, ok = run(layout, want, want, rows)
    check(ok and r["blocks"] == 7, f"main: the same bytes {r}")
    wild = codes[:]
    wild[3] = 0x7E                           # block 0: any code, its scale moved
    r, ok = run(layout, _token(wild + rope, [125] + e[1:]), want, rows)
    check(ok and r["edge"] == 1 and r["code"] == 0,
          f"main: block 0's scale one step off at the edge: counted, its codes skipped {r}")
    r, ok = run(layout, _token(codes + rope, [125, 125] + e[2:]), want, rows)
    check(not ok and r["edge"] == 1 and r["scale_off"] == 1,
          f"main: block 1's scale off far from an edge: caught {r}")
    r, ok = run(layout, _token(codes + rope, [126] + e[1:]), want, rows)
    check(not ok and r["scale_off"] == 1, f"main: a scale two steps off: caught {r}")
    bumped = rope[:]
    bumped[2] += 1                           # one bf16 step
    r, ok = run(layout, _token(codes + bumped, e), want, rows)
    check(ok and r["bf16"] == 1, f"main: a rope channel one bf16 step off {r}")
    bumped[2] += 2
    r, ok = run(layout, _token(codes + bumped, e), want, rows)
    check(not ok and r["bf16"] == 3, f"main: a rope channel three bf16 steps off: caught {r}")
    small = torch.full((1, 512), 0.25, dtype=torch.float64)
    small[0, 0] = 3e5                        # a row max that makes 3 steps of 0.25 tolerable
    r, ok = run(layout, _token(codes + bumped, e),
                _token(codes + rope, e), small)
    check(ok and r["bf16"] == 0, f"main: three bf16 steps inside 1e-5 of the row's max {r}")

    # MXFP4: 64 bytes of two e2m1 nibbles, four ue8m0 scales; edges allowed on 1e-3 of blocks.
    layout = Layout("indexer_mxfp4", 64)
    rows = torch.full((1, 128), 0.5, dtype=torch.float64)
    payload = [0x22] * 64
    e = [126] * 4
    want = _token(payload, e)
    r, ok = run(layout, _token([0x32] + payload[1:], e), want, rows)
    check(ok and r["code"] == 1, f"mxfp4: a high nibble a step up {r}")
    r, ok = run(layout, _token([0xA2] + payload[1:], e), want, rows)
    check(not ok and r["code"] == 4, f"mxfp4: a nibble's sign flipped: caught {r}")
    r, ok = run(layout, _token([0x08] + payload[1:], e),
                _token([0x00] + payload[1:], e), rows)
    check(ok and r["code"] == 0, f"mxfp4: -0 against +0: no step {r}")
    edge_rows = torch.full((1, 128), 0.5, dtype=torch.float64)
    edge_rows[0, 0], edge_rows[0, 32] = 6.0 * 2.0 ** -1, 6.0 * 2.0 ** -1
    r, ok = run(layout, _token(payload, [126, 127, 126, 126]),
                _token(payload, [127, 126, 126, 126]), edge_rows)
    check(not ok and r["edge"] == 2,
          f"mxfp4: two scales at an edge in one token of 4 blocks: more than 1e-3, caught {r}")


def check_judge():
    """judge end to end on the CPU: a cache holding exactly the reference's bytes passes; one
    code two steps off, or one byte outside the slots, fails."""
    import torch

    rng = random.Random(2)
    for name in ("indexer", "main4", "indexer_mxfp4"):
        m = manifest(name)
        layout = Layout(m["layout"], m["page_size"])
        flavour = compress_proof.fp8_flavour(m)
        batch = compress_proof.random_batch(m, 256, 13, True, "cpu")
        expected = compress_proof.expected_of(m, batch)
        t_count = batch.token_req.numel()
        before = compress_proof.pattern(batch.cache_bytes, "cpu")
        stores = compress_proof.store_torch.store_mask(
            layout, batch.out_loc, expected.active, torch.ones_like(expected.active),
            before.numel())
        cache = compress_proof.store_torch.expected_cache(
            layout, before, expected.full_rows(t_count).float(), batch.out_loc, stores, flavour)
        ok, detail = compress_proof.judge(m, batch, cache, before, expected)
        check(ok and int(stores.sum()) > 0, f"{name} judge, the reference's own bytes: {detail}")
        first = int(stores.nonzero()[0])
        row_at, _, _ = layout.slot(int(batch.out_loc[first]))
        bad = cache.clone()
        bad[row_at + 1] = (int(bad[row_at + 1]) + (0x22 if layout.e2m1 else 2)) & 0xFF
        ok, detail = compress_proof.judge(m, batch, bad, before, expected)
        check(not ok, f"{name} judge, a code two steps off: caught ({detail})")
        # An item that stores nothing, with a slot inside the cache: its bytes keep the pattern.
        _, _, ends = layout.slot(batch.out_loc.clamp(min=0))
        idle = (~stores & (batch.out_loc >= 0) & (ends <= before.numel())).nonzero().flatten()
        row_at, _, _ = layout.slot(int(batch.out_loc[idle[0]]))
        bad = cache.clone()
        bad[row_at] ^= 0x01
        ok, detail = compress_proof.judge(m, batch, bad, before, expected)
        check(not ok and "1 bytes outside" in detail,
              f"{name} judge, a byte of an idle slot changed: caught ({detail})")


def main():
    check_plan()
    if importlib.util.find_spec("torch") is None:
        print("test_compress_torch: plan ok; reference and comparison skipped (no torch)")
        return
    import torch

    check_case_and_random()
    check_steps()
    if not hasattr(torch, "float8_e4m3fn"):
        print("test_compress_torch: ok; judge skipped (no float8 in this torch)")
        return
    check_judge()
    print("test_compress_torch: ok")


if __name__ == "__main__":
    main()
