"""The parts of examples/decode_loop.py that need no GPU: a server's schedule (requests, chunked
prefill, decode steps, the pages of its state and compressed caches), DeepSeek-V4's compressor
written twice (as a serving framework runs it from the paged state cache of SPEC.md "The compress
step in front", and as the model's reference computes it over a whole sequence), and the checks
of the finished rows and cache bytes.

The array code takes an `ops` object (NumpyOps or TorchOps): the same functions run in torch on
the GPU (the example) and in numpy on the CPU (test/Examples/decode-loop.test). Nothing here
imports numpy or torch at module level.
"""
import dataclasses
import math
import random

PADDING_ROW = 0  # row 0 of every block table is the padding row: its block / page 0 is no request's
ROPE_DIM = 64    # R of every DeepSeek-V4 compressor


@dataclasses.dataclass(frozen=True)
class Compressor:
    """One compressor of the model and the paged cache its rows go to (SPEC.md "Where
    DeepSeek-V4 runs it")."""
    name: str       # --layouts name
    layout: str     # the store's cache layout
    head_dim: int   # D
    ratio: int
    rotate: bool
    rope_dim: int = ROPE_DIM

    @property
    def coff(self):
        """2 where windows overlap (the model's `overlap = compress_ratio == 4`), else 1."""
        return 2 if self.ratio == 4 else 1

    @property
    def width(self):
        """W: the width of each projection (wkv, wgate, ape)."""
        return self.coff * self.head_dim

    @property
    def window(self):
        """Positions a compressed row pools."""
        return self.coff * self.ratio


COMPRESSORS = {c.name: c for c in (
    Compressor("indexer", "indexer", 128, 4, True),
    Compressor("indexer_mxfp4", "indexer_mxfp4", 128, 4, True),
    Compressor("main_c4", "main", 512, 4, False),
    Compressor("main_c128", "main", 512, 128, False),
)}


# ---------------------------------------------------------------------------------------------
# The schedule: plain Python.

def prefill_batches(prompt_lens, chunk):
    """Chunked prefill: batches of at most `chunk` tokens (request, position), taken request by
    request in order; a prompt longer than what is left of a batch continues in the next one."""
    tokens = [(r, p) for r, n in enumerate(prompt_lens) for p in range(n)]
    return [tokens[i:i + chunk] for i in range(0, len(tokens), chunk)]


def is_window_end(position, ratio):
    """Whether the token at `position` finishes a compressed row (SPEC: (p + 1) % ratio == 0)."""
    return (position + 1) % ratio == 0


def compressed_index(position, ratio):
    """The compressed row a window-end token finishes; for any other token, the next row (the
    slot a decode step names while its request is between boundaries)."""
    return (position + 1) // ratio - (1 if is_window_end(position, ratio) else 0)


def paged_table(entries, per_page, seed):
    """(block table [1 + requests][max pages], number of pages) for requests of `entries` rows
    each, `per_page` rows a page: row 1 + r is request r's, row PADDING_ROW and every unused
    entry are page 0, which no request owns; pages are handed out shuffled, so that no request's
    pages are in order."""
    counts = [-(-n // per_page) for n in entries]
    pages = list(range(1, 1 + sum(counts)))
    random.Random(seed).shuffle(pages)
    width = max(counts + [1])
    table, start = [[0] * width], 0
    for count in counts:
        table.append(pages[start:start + count] + [0] * (width - count))
        start += count
    return table, 1 + sum(counts)


def slot(table, request, index, per_page):
    """The slot of request `request`'s row `index` in a paged cache of `per_page` rows a page."""
    return table[1 + request][index // per_page] * per_page + index % per_page


# ---------------------------------------------------------------------------------------------
# The compressor, as a serving framework runs it: a paged state cache of both projections.

@dataclasses.dataclass
class Weights:
    """A compressor's parameters: wkv, wgate [W, dim], ape [ratio, W], the RMSNorm gain [D]."""
    wkv: object
    wgate: object
    ape: object
    norm: object


def random_weights(ops, comp, dim):
    """Weights of a random model whose scores are O(1), so that softmax weights all matter."""
    return Weights(wkv=ops.randn((comp.width, dim)) * dim ** -0.5,
                   wgate=ops.randn((comp.width, dim)) * dim ** -0.5,
                   ape=ops.randn((comp.ratio, comp.width)) * 0.5,
                   norm=1.0 + 0.1 * ops.randn((comp.head_dim,)))


def append_state(ops, comp, w, state, block_table, rows, positions, x):
    """The per-token step: kv_t = wkv(x_t) and score_t = wgate(x_t) + ape[p % ratio] into the
    token's row of the state cache [blocks, block_size, 2W], found through the block table
    (`rows`: each token's block-table row, `positions` its position)."""
    kv = x @ w.wkv.T
    score = x @ w.wgate.T + w.ape[positions % comp.ratio]
    block_size = state.shape[1]
    blocks = ops.index(block_table[rows, positions // block_size])
    state[blocks, positions % block_size] = ops.cat([kv, score], 1)


def pool(ops, comp, state, block_table, rows, positions):
    """SPEC.md "The compress step in front" up to y: for each item (block-table row, position of
    its window's last token), the per-channel softmax-weighted sum over its window, read from the
    state cache; f32 [M, D]. This is the step torch.ops.dsv4.compress_quantize_store_ will do in
    the same kernel as the norm, rope, quantize and store."""
    ratio, d, width, n = comp.ratio, comp.head_dim, comp.width, comp.window
    q = positions[:, None] - (n - 1) + ops.arange(n)[None, :]          # [M, n]
    block_size = state.shape[1]
    present = q >= 0                                                   # q < 0: absent
    q = ops.clamp_min(q, 0)
    window = state[ops.index(block_table[rows[:, None], q // block_size]), q % block_size]
    kv, score = window[..., :width], window[..., width:]
    if comp.coff == 2:
        # The previous window's tokens give their first D channels, this window's their last D.
        kv = ops.cat([kv[:, :ratio, :d], kv[:, ratio:, d:]], 1)
        score = ops.cat([score[:, :ratio, :d], score[:, ratio:, d:]], 1)
    score = ops.masked_fill(score, ~present[..., None], -math.inf)
    return softmax_pool(ops, kv, score, 1)


def softmax_pool(ops, kv, score, axis):
    """sum_i kv_i * softmax_i(score) along `axis` (an absent token's score is -inf)."""
    e = ops.exp(score - ops.amax(score, axis))
    return ops.sum(kv * e, axis) / ops.sum(e, axis)


# ---------------------------------------------------------------------------------------------
# The model's compressor over a whole sequence (its forward at start_pos 0), in float64.

def model_pool(ops, comp, w, x):
    """The compressed rows y [T // ratio, D] of tokens x [T, dim] as the model computes them:
    both projections of every token, windows of `ratio` tokens with ape added, the overlap
    transform where coff = 2, softmax over each window; no state cache, no block table."""
    ratio, d = comp.ratio, comp.head_dim
    count = x.shape[0] // ratio
    x = ops.f64(x[:count * ratio])
    kv = (x @ ops.f64(w.wkv).T).reshape(count, ratio, comp.width)
    score = (x @ ops.f64(w.wgate).T).reshape(count, ratio, comp.width) + ops.f64(w.ape)[None]
    if comp.coff == 2:
        kv, score = overlap(ops, kv, d, 0.0), overlap(ops, score, d, -math.inf)
    return softmax_pool(ops, kv, score, 1)


def overlap(ops, t, d, fill):
    """The model's overlap_transform of [count, ratio, 2D]: window k holds window k-1's tokens'
    first D channels, then its own tokens' last D; the first window's previous half is `fill`."""
    previous = ops.cat([ops.full_like(t[:1, :, :d], fill), t[:-1, :, :d]], 0)
    return ops.cat([previous, t[:, :, d:]], 1)


def model_finish(ops, comp, w, y, positions, freqs, eps):
    """The model's epilogue of rows y [K, D] at `positions` [K] (the model's row k is at k *
    ratio, its window's first token), in float64: RMSNorm with the gain, RoPE on the last R
    channels (freqs [P, R], cos and sin interleaved), and the Hadamard transform scaled by
    D^-0.5 where the compressor rotates."""
    d, r = comp.head_dim, comp.rope_dim
    y = ops.f64(y)
    y = y / ops.sqrt(ops.sum(y * y, 1)[:, None] / d + eps) * ops.f64(w.norm)
    f = ops.f64(freqs)[positions]
    cos, sin, a, b = f[:, 0::2], f[:, 1::2], y[:, d - r::2], y[:, d - r + 1::2]
    rotated = ops.stack([a * cos - b * sin, a * sin + b * cos], 2).reshape(y.shape[0], r)
    y = ops.cat([y[:, :d - r], rotated], 1)
    if not comp.rotate:
        return y
    h = 1
    while h < d:  # Sylvester order: stride 1, 2, 4, ...
        v = y.reshape(y.shape[0], d // (2 * h), 2, h)
        y = ops.stack([v[:, :, 0] + v[:, :, 1], v[:, :, 0] - v[:, :, 1]], 2).reshape(y.shape[0], d)
        h *= 2
    return y * d ** -0.5


# ---------------------------------------------------------------------------------------------
# The checks.

# SPEC.md: y and the finished row within 1e-5 of float64, relative to the row's max magnitude.
ROW_TOLERANCE = 1e-5


def row_error(ops, got, want):
    """The largest error of any row of `got` against `want`, relative to that row's max |want|."""
    if got.shape[0] == 0:
        return 0.0
    got, want = ops.f64(got), ops.f64(want)
    return float((ops.amax(ops.abs(got - want), 1) / ops.amax(ops.abs(want), 1)).max())


def differing_bytes(ops, got, want):
    """(bytes compared, indices where the flat uint8 `got` and `want` differ)."""
    return got.shape[0], ops.nonzero(got != want)


def bytes_verdict(ops, label, got, want):
    """(ok, line, bytes compared, bytes that differ) of a byte-exact comparison."""
    compared, bad = differing_bytes(ops, got, want)
    where = (f" (first at byte {int(bad[0])}: got {int(got[bad[0]])}, want {int(want[bad[0]])})"
             if bad.shape[0] else "")
    return (bad.shape[0] == 0, f"{label}: {compared} bytes, {bad.shape[0]} differ{where}",
            compared, bad.shape[0])


def _ordinal(ops, codes, sign_bit):
    """Sign-magnitude codes as integers in value order: neighbouring values differ by one, and
    +0 and -0 are both 0 (FP8 e4m3 fn/fnuz, e2m1 and bf16 are all sign-magnitude)."""
    codes = ops.index(codes)
    magnitude = codes & (sign_bit - 1)
    return ops.where((codes & sign_bit) != 0, -magnitude, magnitude)


def _codes(ops, layout, values):
    """(ordinals [N, quantized] of the FP8/e2m1 codes, ordinals of the bf16 rope channels or None)
    of token bytes [N, row_bytes] of `layout` (store_model.Layout)."""
    n = values.shape[0]
    if layout.e2m1:
        v = ops.index(values)
        nibbles = ops.stack([v & 0xF, v >> 4], 2).reshape(n, layout.quantized)  # low nibble first
        return _ordinal(ops, nibbles, 0x8), None
    fp8 = _ordinal(ops, values[:, :layout.quantized], 0x80)
    if layout.head_dim == layout.quantized:
        return fp8, None
    pairs = ops.index(values[:, layout.quantized:]).reshape(n, -1, 2)       # little-endian bf16
    return fp8, _ordinal(ops, pairs[..., 0] | (pairs[..., 1] << 8), 0x8000)


def _bf16_values(ops, values, layout):
    """The bf16 rope channels of token bytes [N, row_bytes], as f64 [N, R]."""
    n = values.shape[0]
    pairs = values[:, layout.quantized:].reshape(n, -1, 2)                   # little-endian
    zero = ops.zeros(tuple(pairs.shape[:2]), "u8")
    words = ops.stack([zero, zero, pairs[..., 0], pairs[..., 1]], 2).reshape(n, -1)
    return ops.f64(ops.as_f32(words))


def code_distance(ops, layout, got, want, row_max=None):
    """How far the token bytes `got` = (values, scales) are from `want`, of the same tokens:
    {"code": the largest step between FP8/e2m1 codes of blocks whose scales agree, "bf16": the
    largest step between bf16 channels, "scale": the largest step between ue8m0 scales (a
    block whose scale moved is not compared code by code: a scale at a power of two's edge
    moves every code), or, for the indexer's f32 scale, its largest relative difference}.
    With `row_max` (each token's largest |value| of the float64 row, [N, 1]), a bf16 channel
    within ROW_TOLERANCE * row_max of `want` counts as no step: the finished row's own
    allowance, which is many bf16 steps of a channel far below the row's max (4 of them on
    an H200 run, seed 756833506)."""
    n = got[0].shape[0]
    result = {"code": 0, "bf16": 0, "scale": 0}
    if n == 0:
        return result
    codes_got, bf16_got = _codes(ops, layout, got[0])
    codes_want, bf16_want = _codes(ops, layout, want[0])
    step = ops.abs(codes_got - codes_want)
    if layout.name == "indexer":
        s_got, s_want = ops.f64(ops.as_f32(got[1])), ops.f64(ops.as_f32(want[1]))
        result["scale"] = float((ops.abs(s_got - s_want) / s_want).max())
    else:
        moved = ops.abs(ops.index(got[1]) - ops.index(want[1]))             # [N, blocks]
        result["scale"] = int(moved.max())
        blocks = step.reshape(n, layout.quantized // layout.block, layout.block)
        step = ops.where((moved == 0)[..., None], blocks, 0 * blocks)
    result["code"] = int(step.max())
    if bf16_got is not None:
        bf16_step = ops.abs(bf16_got - bf16_want)
        if row_max is not None:
            apart = ops.abs(_bf16_values(ops, got[0], layout) - _bf16_values(ops, want[0], layout))
            bf16_step = ops.where(apart > ROW_TOLERANCE * row_max, bf16_step, 0 * bf16_step)
        result["bf16"] = int(bf16_step.max())
    return result


def distance_verdict(layout, distance):
    """Whether `distance` (code_distance's) is SPEC.md's "codes within one step of those of the
    float64 row": every code and bf16 channel within one step, a ue8m0 scale within one step,
    the indexer's f32 scale within the row tolerance."""
    scale_ok = (distance["scale"] <= ROW_TOLERANCE if layout.name == "indexer"
                else distance["scale"] <= 1)
    return distance["code"] <= 1 and distance["bf16"] <= 1 and scale_ok


# ---------------------------------------------------------------------------------------------
# The array namespaces.

class NumpyOps:
    """ops for numpy arrays (the CPU test); random numbers from `seed`."""

    def __init__(self, seed):
        import numpy
        self.np = numpy
        self.rng = numpy.random.default_rng(seed)
        self._DTYPES = {"f32": numpy.float32, "i32": numpy.int32, "i64": numpy.int64,
                        "u8": numpy.uint8, "bool": numpy.bool_}

    def randn(self, shape):
        return self.rng.standard_normal(shape).astype(self.np.float32)

    def cat(self, xs, axis):
        return self.np.concatenate(xs, axis=axis)

    def stack(self, xs, axis):
        return self.np.stack(xs, axis=axis)

    def amax(self, x, axis):
        return x.max(axis=axis, keepdims=True)

    def sum(self, x, axis):
        return x.sum(axis=axis)

    def exp(self, x):
        return self.np.exp(x)

    def sqrt(self, x):
        return self.np.sqrt(x)

    def abs(self, x):
        return self.np.abs(x)

    def arange(self, n):
        return self.np.arange(n, dtype=self.np.int64)

    def clamp_min(self, x, low):
        return self.np.maximum(x, low)

    def masked_fill(self, x, mask, value):
        return self.np.where(mask, self.np.asarray(value, dtype=x.dtype), x)

    def where(self, cond, a, b):
        return self.np.where(cond, a, b)

    def full_like(self, x, value):
        return self.np.full_like(x, value)

    def index(self, x):
        return self.np.asarray(x, dtype=self.np.int64)

    def tensor(self, values, dtype):
        return self.np.array(values, dtype=self._DTYPES[dtype])

    def zeros(self, shape, dtype):
        return self.np.zeros(shape, dtype=self._DTYPES[dtype])

    def clone(self, x):
        return x.copy()

    def contiguous(self, x):
        return self.np.ascontiguousarray(x)

    def to_list(self, x):
        return x.tolist()

    def as_u8(self, x):
        return self.np.asarray(x, dtype=self.np.uint8)

    def cos(self, x):
        return self.np.cos(x)

    def sin(self, x):
        return self.np.sin(x)

    def f32(self, x):
        return self.np.asarray(x, dtype=self.np.float32)

    def f64(self, x):
        return self.np.asarray(x, dtype=self.np.float64)

    def as_f32(self, x):
        return self.np.ascontiguousarray(x).view(self.np.float32)

    def nonzero(self, mask):
        return self.np.flatnonzero(mask)


class TorchOps:
    """ops for torch tensors on `device` (the example); random numbers from a CPU generator
    seeded with `seed`, so that a seed gives the same model on every device."""

    def __init__(self, device, seed):
        import torch
        self.torch, self.device = torch, device
        self.generator = torch.Generator().manual_seed(seed)
        self._DTYPES = {"f32": torch.float32, "i32": torch.int32, "i64": torch.int64,
                        "u8": torch.uint8, "bool": torch.bool}

    def randn(self, shape):
        return self.torch.randn(shape, generator=self.generator).to(self.device)

    def cat(self, xs, axis):
        return self.torch.cat(xs, dim=axis)

    def stack(self, xs, axis):
        return self.torch.stack(xs, dim=axis)

    def amax(self, x, axis):
        return x.amax(dim=axis, keepdim=True)

    def sum(self, x, axis):
        return x.sum(dim=axis)

    def exp(self, x):
        return x.exp()

    def sqrt(self, x):
        return x.sqrt()

    def abs(self, x):
        return x.abs()

    def arange(self, n):
        return self.torch.arange(n, dtype=self.torch.int64, device=self.device)

    def clamp_min(self, x, low):
        return x.clamp(min=low)

    def masked_fill(self, x, mask, value):
        return x.masked_fill(mask, value)

    def where(self, cond, a, b):
        return self.torch.where(cond, a, b)

    def full_like(self, x, value):
        return self.torch.full_like(x, value)

    def index(self, x):
        return x.to(self.torch.int64)

    def tensor(self, values, dtype):
        return self.torch.tensor(values, dtype=self._DTYPES[dtype], device=self.device)

    def zeros(self, shape, dtype):
        return self.torch.zeros(shape, dtype=self._DTYPES[dtype], device=self.device)

    def clone(self, x):
        return x.clone()

    def contiguous(self, x):
        return x.contiguous()

    def to_list(self, x):
        return x.tolist()

    def as_u8(self, x):
        return x.to(self.torch.uint8)

    def cos(self, x):
        return x.cos()

    def sin(self, x):
        return x.sin()

    def f32(self, x):
        return x.to(self.torch.float32)

    def f64(self, x):
        return x.to(self.torch.float64)

    def as_f32(self, x):
        return x.contiguous().view(self.torch.float32)

    def nonzero(self, mask):
        return mask.nonzero().flatten()
