"""Whether a peer's cache is dsv4's compress kernel's up to one code step (compress_bench.py's
check before timing: a peer that stores other bytes is no valid comparison).

Both caches start as PATTERN bytes and get the same batch. A slot a producing item names must be
written by both (its scale bytes no longer the pattern); every byte outside these slots must be
equal; inside, where the two scales agree (the indexer's f32 scale within SCALE_TOLERANCE, a main
block's ue8m0 byte equal), every FP8 code is within one step of the other, and a main cache's
bf16 rope channel within one bf16 step or within ROPE_TOLERANCE of the slot's largest rope value
(a channel far below the largest moves several bf16 steps inside that error). The two kernels
compute the row in other orders, so a scale may differ where the row's amax sits on a rounding
edge; such slots are counted and allowed up to MAX_SCALE_DIFFER_SHARE of the slots.

The step functions work on Python ints and on integer tensors alike (test_compress_bench.py).
"""
SCALE_TOLERANCE = 1e-5
ROPE_TOLERANCE = 2e-5
MAX_SCALE_DIFFER_SHARE = 1e-3


def fp8_order(code):
    """An FP8 (e4m3) code's place on the number line, in steps from zero (both zeros are 0)."""
    return (code & 0x7F) * (1 - 2 * ((code >> 7) & 1))


def e2m1_order(code):
    """An e2m1 code's place on the number line, in steps from zero (both zeros are 0)."""
    return (code & 0x7) * (1 - 2 * ((code >> 3) & 1))


def bf16_order(bits):
    """A bf16 value's place on the number line, in steps from zero."""
    return (bits & 0x7FFF) * (1 - 2 * ((bits >> 15) & 1))


def steps_apart(a, b, order):
    return abs(order(a) - order(b))


def agreement_ok(stats):
    """The verdict of compare()'s counts."""
    return (stats["slots"] > 0 and stats["unwritten"] == 0 and stats["outside_differ"] == 0
            and stats["codes_far"] == 0
            and stats["scale_differ"] <= MAX_SCALE_DIFFER_SHARE * stats["slots"])


def compare(layout, want, got, slots, pattern):
    """Counts of compare's rules for caches `want` (dsv4's) and `got` (a peer's), uint8 tensors,
    after a batch whose producing items name `slots` (int64 tensor)."""
    import torch

    n = slots.numel()
    row_at, scale_at, _ = layout.slot(slots)
    device = want.device
    row_idx = row_at[:, None] + torch.arange(layout.row_bytes, device=device)
    scale_idx = scale_at[:, None] + torch.arange(layout.scale_bytes, device=device)
    inside = torch.zeros(want.numel(), dtype=torch.bool, device=device)
    inside[row_idx.flatten()] = True
    inside[scale_idx.flatten()] = True
    outside_differ = int(((want != got) & ~inside).sum())
    w_rows, g_rows = want[row_idx].int(), got[row_idx].int()
    w_scales, g_scales = want[scale_idx], got[scale_idx]
    unwritten = int(((w_scales == pattern).all(1) | (g_scales == pattern).all(1)).sum())
    if layout.name == "indexer":
        ws = w_scales.contiguous().view(torch.float32).flatten()
        gs = g_scales.contiguous().view(torch.float32).flatten()
        agree = (ws - gs).abs() <= SCALE_TOLERANCE * ws.abs()
        far = (steps_apart(w_rows, g_rows, fp8_order) > 1) & agree[:, None]
        codes_far, scale_differ = int(far.sum()), int((~agree).sum())
    elif layout.name == "indexer_mxfp4":
        # e2m1 codes, two a byte (low nibble first); one ue8m0 byte a block of 32.
        blocks = layout.quantized // layout.block
        agree = w_scales == g_scales                                           # [n, 4]
        nibbles = lambda rows: torch.stack((rows & 0xF, rows >> 4), dim=2).reshape(  # noqa: E731
            n, blocks, layout.block)
        far = (steps_apart(nibbles(w_rows), nibbles(g_rows), e2m1_order) > 1) & agree[:, :, None]
        codes_far, scale_differ = int(far.sum()), int((~agree).any(1).sum())
    else:
        blocks = layout.quantized // layout.block
        agree = w_scales == g_scales                                           # [n, 7]
        q = layout.quantized
        codes = lambda rows: rows[:, :q].reshape(n, blocks, layout.block)  # noqa: E731
        far = (steps_apart(codes(w_rows), codes(g_rows), fp8_order) > 1) & agree[:, :, None]
        # The rope channels: little-endian bf16 pairs after the FP8 codes.
        rope = lambda rows: rows[:, q::2] | (rows[:, q + 1::2] << 8)  # noqa: E731
        w_rope, g_rope = rope(w_rows), rope(g_rows)
        value = lambda bits: (bits << 16).view(torch.float32)  # noqa: E731
        largest = value(w_rope).abs().amax(1, keepdim=True)
        close = (value(w_rope) - value(g_rope)).abs() <= ROPE_TOLERANCE * largest
        rope_far = (steps_apart(w_rope, g_rope, bf16_order) > 1) & ~close
        codes_far = int(far.sum()) + int(rope_far.sum())
        scale_differ = int((~agree).any(1).sum())
    return {"slots": n, "unwritten": unwritten, "outside_differ": outside_differ,
            "codes_far": codes_far, "scale_differ": scale_differ}
