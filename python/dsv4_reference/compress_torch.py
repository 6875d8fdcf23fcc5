"""SPEC.md "The compress step in front" with torch, for batches too large for the plain-Python
model: which items produce a row, the softmax pooling of their windows over the paged state,
their finished float64 rows, and how far a kernel's stored token bytes are from those rows'.

compress_model.py is the model (one item and one channel at a time, plain floats); this is the
same rules as tensor operations. device/compress_proof.py holds it against the model on sampled
items of every batch (model_state gives the model a view of a GPU state), and
test/Reference/test_compress_torch.py does so on the CPU. torch is imported inside the functions.
"""
import math

from dsv4_reference import epilogue_torch
from dsv4_reference.compress_model import INT32_MAX, PagedState
from dsv4_reference.store_torch import E2M1_MAX, FP8, MIN_AMAX

# SPEC.md: y and the finished row within 1e-5 of float64, relative to the row's max magnitude.
ROW_TOLERANCE = 1e-5
# A ue8m0 scale may land one step off where the row's block maximum sits on a power of two's
# edge (the kernel's row differs from float64's in the last bits); such blocks may be at most
# this fraction of all, rounded up.
EDGE_FRACTION = 1e-3
# Floats of the gathered windows per chunk of items (f32 and float64 copies stay below 1 GiB).
GATHER_FLOATS = 1 << 25


def coff(overlap):
    return 2 if overlap else 1


def window(positions, ratio, overlap):
    """[T, n] int64: the window positions q_i = p - n + 1 + i of each item at `positions`."""
    import torch

    n = coff(overlap) * ratio
    return positions[:, None] - n + 1 + torch.arange(n, device=positions.device)


def _window_blocks(block_table, token_req, q, block_size):
    """(block ids [T, n] read through the table, clamped to its shape; whether each column is
    inside the table's row) for items of requests `token_req` (already inside the table)."""
    import torch

    column = torch.div(q.clamp(min=0), block_size, rounding_mode="floor")
    in_row = column < block_table.shape[1]
    rows = token_req.to(torch.int64).clamp(0, block_table.shape[0] - 1)
    blocks = block_table[rows[:, None], column.clamp(max=block_table.shape[1] - 1)]
    return blocks.to(torch.int64), in_row


def producing(state, block_table, token_req, positions, ratio, overlap):
    """bool [T]: the items that produce a row (compress_model.Compressor.skip_reason is None):
    0 <= p < INT32_MAX, (p + 1) % ratio == 0, the request inside the block table, and every
    present window position's block column inside the table's row with a block id inside
    [0, num_blocks)."""
    import torch

    p = positions[:token_req.shape[0]].to(torch.int64)
    r = token_req.to(torch.int64)
    ok = (p >= 0) & (p < INT32_MAX) & ((p + 1) % ratio == 0)
    ok &= (r >= 0) & (r < block_table.shape[0])
    q = window(p.clamp(0, INT32_MAX), ratio, overlap)
    blocks, in_row = _window_blocks(block_table, r, q, state.shape[1])
    good = in_row & (blocks >= 0) & (blocks < state.shape[0])
    return ok & (good | (q < 0)).all(dim=1)


def pool(state, block_table, token_req, positions, items, ratio, overlap, head_dim):
    """float64 [len(items), D]: the softmax-pooled rows of the producing `items` (int64 indices
    into token_req), per SPEC.md: present window rows only, per channel
    sum_i kv_i exp(s_i - m) / sum_i exp(s_i - m), m the largest score (NaN ignored, as maxNum);
    under overlap, window rows i >= ratio read the state row's second half."""
    import torch

    d, width, n = head_dim, coff(overlap) * head_dim, coff(overlap) * ratio
    out = torch.empty(items.shape[0], d, dtype=torch.float64, device=state.device)
    chunk = max(1, GATHER_FLOATS // (n * 2 * width))
    for start in range(0, items.shape[0], chunk):
        t = items[start:start + chunk]
        q = window(positions[t].to(torch.int64), ratio, overlap)
        present = q >= 0
        blocks, _ = _window_blocks(block_table, token_req[t], q, state.shape[1])
        rows = state[blocks.clamp(0, state.shape[0] - 1),
                     torch.remainder(q.clamp(min=0), state.shape[1])]      # [c, n, 2W] f32
        if overlap:
            kv = torch.cat((rows[:, :ratio, :d], rows[:, ratio:, d:2 * d]), dim=1)
            score = torch.cat((rows[:, :ratio, width:width + d],
                               rows[:, ratio:, width + d:width + 2 * d]), dim=1)
        else:
            kv, score = rows[:, :, :d], rows[:, :, width:width + d]
        kv, score = kv.double(), score.double()
        mask = present[:, :, None]
        ignored = torch.isnan(score) | ~mask
        m = torch.where(ignored, torch.full_like(score, -math.inf), score).amax(dim=1,
                                                                                  keepdim=True)
        m = torch.where(ignored.all(dim=1, keepdim=True), torch.full_like(m, math.nan), m)
        # s - m <= 0: no overflow; -inf - -inf and NaNs give NaN, as the formula does.
        w = torch.exp(score - m)
        zero = torch.zeros((), dtype=torch.float64, device=state.device)
        num = torch.where(mask, kv * w, zero).sum(dim=1)
        den = torch.where(mask, w, zero).sum(dim=1)
        out[start:start + chunk] = num / den
    return out


class Expected:
    """The float64 reference of one launch: `active` bool [T] (the item produces a row and its
    RoPE position p + 1 - ratio is a row of freqs: the items that may store), `items` (their
    indices), `pooled` and `rows` float64 [len(items), D] (y and the finished row)."""

    def __init__(self, state, block_table, token_req, positions, weight, freqs, eps, ratio,
                 overlap, head_dim, rope_dim, rotate, scale):
        import torch

        t_count = token_req.shape[0]
        p = positions[:t_count].to(torch.int64)
        self.producing = producing(state, block_table, token_req, p, ratio, overlap)
        rope_at = p + 1 - ratio
        self.active = self.producing & (rope_at >= 0) & (rope_at < freqs.shape[0])
        self.items = self.active.nonzero().flatten()
        self.pooled = pool(state, block_table, token_req, p, self.items, ratio, overlap,
                           head_dim)
        self.rows = epilogue_torch.epilogue(self.pooled, weight, eps, freqs, rope_at[self.items],
                                            rope_dim, rotate, scale if rotate else None)

    def full_rows(self, t_count):
        """float64 [T, D]: the finished rows by item (zero where none)."""
        import torch

        rows = torch.zeros(t_count, self.rows.shape[1], dtype=torch.float64,
                           device=self.rows.device)
        rows[self.items] = self.rows
        return rows


class _StateValues:
    """compress_model.PagedState's flat row-major values of a [num_blocks, bs, 2W] tensor (any
    strides, any device): the model slices one state row at a time, and only those leave it."""

    def __init__(self, state):
        self.state = state
        self.shape = tuple(state.shape)

    def __len__(self):
        return self.shape[0] * self.shape[1] * self.shape[2]

    def __getitem__(self, span):
        width = self.shape[2]
        row, offset = divmod(span.start, width)
        assert span.step is None and span.stop - span.start <= width - offset, span
        block, r = divmod(row, self.shape[1])
        return self.state[block, r, offset:offset + span.stop - span.start].tolist()


def model_state(state, block_table):
    """compress_model.PagedState over a torch state and block table."""
    nb, bs, width = state.shape
    return PagedState(_StateValues(state), nb, bs, width, block_table.tolist())


# --- How far stored token bytes are from the float64 row's -------------------------------------

def _ordinal(codes, sign_bit):
    """Sign-magnitude codes as integers in value order: neighbours differ by one, +0 and -0 are
    both 0 (FP8 e4m3 fn/fnuz, e2m1 and bf16 are all sign-magnitude)."""
    import torch

    codes = codes.to(torch.int64)
    magnitude = codes & (sign_bit - 1)
    return torch.where((codes & sign_bit) != 0, -magnitude, magnitude)


def _codes(layout, values):
    """(ordinals [N, quantized] of the FP8/e2m1 codes, ordinals [N, R] of the bf16 rope
    channels or None) of token bytes [N, row_bytes]."""
    import torch

    n = values.shape[0]
    v = values.to(torch.int64)
    if layout.e2m1:
        nibbles = torch.stack((v & 0xF, v >> 4), dim=2).reshape(n, layout.quantized)
        return _ordinal(nibbles, 0x8), None
    fp8 = _ordinal(v[:, :layout.quantized], 0x80)
    if layout.head_dim == layout.quantized:
        return fp8, None
    pairs = v[:, layout.quantized:].reshape(n, -1, 2)                         # little-endian
    return fp8, _ordinal(pairs[..., 0] | (pairs[..., 1] << 8), 0x8000)


def _bf16_values(layout, values):
    """The bf16 rope channels of token bytes [N, row_bytes], as float64 [N, R]."""
    import torch

    pairs = values[:, layout.quantized:].to(torch.int64).reshape(values.shape[0], -1, 2)
    return _as_f32((pairs[..., 0] | (pairs[..., 1] << 8)) << 16)


def _f32_scales(scales):
    """The indexer's f32 scales from their 4 little-endian bytes [N, 4], as float64 [N]."""
    import torch

    b = scales.to(torch.int64)
    return _as_f32(b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16) | (b[:, 3] << 24))


def _as_f32(bits):
    """float64 of the f32 values whose bit patterns are the int64 `bits` (0 .. 2^32 - 1)."""
    import torch

    signed = torch.where(bits >= 2**31, bits - 2**32, bits).to(torch.int32)
    return signed.view(torch.float32).double()


def _at_edge(layout, rows64, got_e, want_e, flavour):
    """bool [N, blocks]: the ue8m0 scales one step apart whose block maximum of the float64 row
    lies on the power of two between them, within the row's tolerance (and, for main, within
    the half bf16 step its nope channels are rounded by before the maximum)."""
    import torch

    n, blocks = got_e.shape
    quantized = rows64[:, :layout.quantized].reshape(n, blocks, layout.block)
    amax = torch.where(torch.isnan(quantized), torch.zeros_like(quantized),
                       quantized.abs()).amax(dim=2).clamp(min=MIN_AMAX)
    code_max = E2M1_MAX if layout.e2m1 else FP8[flavour]["max"]
    edge = torch.exp2((torch.minimum(got_e, want_e) - 127).double()) * code_max
    row_max = rows64.abs().amax(dim=1, keepdim=True)
    allowed = ROW_TOLERANCE * row_max + (0.0 if layout.head_dim == layout.quantized
                                         else 2.0 ** -8 * edge)
    return ((got_e - want_e).abs() == 1) & ((amax - edge).abs() <= allowed)


def code_steps(layout, got, want, rows64, flavour):
    """How far the stored token bytes `got` = (values [N, row_bytes], scales [N, scale_bytes])
    uint8 are from `want`, the bytes SPEC.md stores for `rows64` (float64 [N, D], the finished
    rows, rounded to f32 once). A dict of:
      tokens, blocks: counted;
      code: the largest step between FP8/e2m1 codes, of the blocks whose scales agree (a scale
        one step off moves every code of its block);
      bf16: the largest step between bf16 rope channels (main) further apart than
        ROW_TOLERANCE * the row's max (a channel far below the max may move several bf16 steps
        inside the row's tolerance);
      scale_off: scales that differ beyond what the row's tolerance explains (the indexer's f32
        scale: more than ROW_TOLERANCE relative; a ue8m0 byte: any but an edge);
      edge: ue8m0 scales one step off at a power of two's edge (_at_edge)."""
    import torch

    n = got[0].shape[0]
    result = {"tokens": n, "blocks": 0, "code": 0, "bf16": 0, "scale_off": 0, "edge": 0}
    if n == 0:
        return result
    codes_got, bf16_got = _codes(layout, got[0])
    codes_want, bf16_want = _codes(layout, want[0])
    step = (codes_got - codes_want).abs()
    if layout.name == "indexer":
        s_got, s_want = _f32_scales(got[1]), _f32_scales(want[1])
        off = ~((s_got - s_want).abs() <= ROW_TOLERANCE * s_want)
        result["blocks"] = n
        result["scale_off"] = int(off.sum())
        step = torch.where(off[:, None], torch.zeros_like(step), step)
    else:
        got_e, want_e = got[1].to(torch.int64), want[1].to(torch.int64)
        moved = got_e != want_e
        edge = _at_edge(layout, rows64, got_e, want_e, flavour) & moved
        result["blocks"] = got_e.numel()
        result["edge"] = int(edge.sum())
        result["scale_off"] = int((moved & ~edge).sum())
        blocks = step.reshape(n, -1, layout.block)
        step = torch.where(moved[..., None], torch.zeros_like(blocks), blocks)
    result["code"] = int(step.max())
    if bf16_got is not None:
        bf16_step = (bf16_got - bf16_want).abs()
        apart = (_bf16_values(layout, got[0]) - _bf16_values(layout, want[0])).abs()
        row_max = rows64.abs().amax(dim=1, keepdim=True)
        near = apart <= ROW_TOLERANCE * row_max
        result["bf16"] = int(torch.where(near, torch.zeros_like(bf16_step), bf16_step).max())
    return result


def steps_ok(result):
    """SPEC.md's "codes within one step of those of the float64 row": every code and bf16
    channel within one step, no scale off, and edges at most EDGE_FRACTION of the blocks."""
    return (result["code"] <= 1 and result["bf16"] <= 1 and result["scale_off"] == 0 and
            result["edge"] <= math.ceil(EDGE_FRACTION * result["blocks"]))


def describe_steps(result):
    return (f"codes within {result['code']} step"
            + (f", bf16 within {result['bf16']}" if result["bf16"] else "")
            + f", {result['scale_off']} of {result['blocks']} scales off, {result['edge']} at a"
            f" rounding edge")
