"""Device proof of the compress kernel (dsv4.fused_compress_store): every byte of the cache
against SPEC.md "The compress step in front", from the paged state to the quantized slot.

For each compress kernel (PTX + manifest with "mode": "compress") in the objects folders (each
folder and its store/ subfolder, where scripts/run puts them), on a cache filled with a byte
pattern:
  - the CPU test's case (test/Integration/gen_compress.py build_case of the kernel's layout and
    ratio, viewed at its state block size): NaN state rows nobody owns, shuffled block tables,
    decode tokens and prefill chunks, -inf, equal and widely spread scores, padding, requests
    outside the table, a block outside the state, a window past the table's columns;
  - random batches of 1 .. 65536 tokens (random_batch): requests of random lengths whose state
    blocks lie at shuffled block ids, one-token decode requests and prefill chunks, a few items
    that must produce nothing, some out_loc < 0, some slots past the cache's end; every other
    batch reads its state through padded block and row strides.
The expected rows are compress_torch.py's (torch, float64: which items produce, the pooling,
epilogue_torch.py's epilogue), held against compress_model.py (plain Python) on sampled items of
every batch; their bytes are store_torch.py's. The kernel's Hadamard adds in another order and
its exp is ex2.approx, so a stored slot is held to the float64 row's codes: each within one
step, the scales equal (the indexer's f32 ones within 1e-5; a ue8m0 scale one step off at a
power of two's edge is counted and allowed on at most 1e-3 of the blocks). Every byte outside
the stored slots must keep the pattern, and the state (its padding too) must be unchanged.

Run (repo root): DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python \
  python3 device/compress_proof.py --objects out [more folders] [--quick]
"""
import math
import os
import random
import sys

import objects
from dsv4_reference import compress_torch, epilogue_torch, store_torch
from dsv4_reference.compress_model import Compressor, epilogue
from dsv4_reference.store_model import Layout

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEVICE = "cuda"
RANDOM_SIZES = (1, 16, 64, 256, 8192, 65536)
QUICK_SIZES = (1, 64, 1000)
# Random batches: positions below MAX_POSITION (then chunks run on), chunks of up to MAX_CHUNK
# tokens, spare NaN blocks no request owns, scores of the widely spread channels up to
# +-3 * LARGE_SPREAD (exp overflows without the max), as in gen_compress.py.
MAX_POSITION = 3000
MAX_CHUNK = 4096
SPARE_BLOCKS = 3
LARGE_SPREAD = 100.0
# Items held against the plain-Python model per batch: producing ones, and as many others.
SAMPLED_ITEMS = 12
# The torch reference and the plain-Python model are both float64.
MODEL_TOLERANCE = 1e-9

failures = []


def verdict(ok, text):
    print(f"{'ok  ' if ok else 'FAIL'} {text}", flush=True)
    if not ok:
        failures.append(text)


def pattern(size, device=None):
    import torch

    return ((torch.arange(size, device=device or DEVICE, dtype=torch.int64) * 37 + 11) & 0xFF).to(torch.uint8)


def fp8_flavour(m):
    """store_model's name of a manifest's FP8 type (None: indexer_mxfp4 has e2m1 codes)."""
    if "fp8_type" not in m:
        return None
    return "fnuz" if m["fp8_type"] == "f8E4M3FNUZ" else "fn"


class Batch:
    """One launch's tensors: `base` (the storage under `state`, padding included), state
    [num_blocks, bs, 2W], block_table, token_req, positions, out_loc, weight, freqs, and the
    cache's size in bytes."""

    def __init__(self, base, state, block_table, token_req, positions, out_loc, weight, freqs,
                 cache_bytes, note=""):
        self.base, self.state, self.block_table = base, state, block_table
        self.token_req, self.positions, self.out_loc = token_req, positions, out_loc
        self.weight, self.freqs, self.cache_bytes, self.note = weight, freqs, cache_bytes, note


def cpu_test_case():
    """test/Integration/gen_compress.py, the generator of the CPU tests' case. It is a lit test's
    script, not a module of the package: it and the sibling it imports (gen_store.py) are loaded
    by their paths, so that test/Integration never joins sys.path."""
    import importlib.util

    if "gen_compress" not in sys.modules:
        for name in ("gen_store", "gen_compress"):
            path = os.path.join(ROOT, "test", "Integration", name + ".py")
            spec = importlib.util.spec_from_file_location(name, path)
            sys.modules[name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(sys.modules[name])
    return sys.modules["gen_compress"]


def case_batch(m, device):
    """gen_compress.py's case for the kernel's layout and ratio at its state block size, or
    None where the case does not fit the kernel (another D, rope dim or overlap)."""
    import torch
    gen_compress = cpu_test_case()
    CHUNK, ROPE_DIM, build_case = gen_compress.CHUNK, gen_compress.ROPE_DIM, gen_compress.build_case

    case = build_case(m["layout"], m["ratio"])
    bs = m["state_block_size"]
    if case.overlap != m["overlap"] or case.d != m["head_dim"] or m["rope_dim"] != ROPE_DIM \
            or CHUNK % bs:
        return None
    width = 2 * case.width
    base = torch.tensor(case.state, dtype=torch.float32, device=device)
    i32 = dict(dtype=torch.int32, device=device)
    i64 = dict(dtype=torch.int64, device=device)
    f32 = dict(dtype=torch.float32, device=device)
    return Batch(base, base.view(case.rows // bs, bs, width),
                 torch.tensor(case.block_table(bs), **i32), torch.tensor(case.token_req, **i32),
                 torch.tensor(case.positions, **i64), torch.tensor(case.out_loc, **i64),
                 torch.tensor(case.weight, **f32), torch.tensor(case.freqs, **f32),
                 case.cache_bytes(m["page_size"]))


class _Plan:
    """A random batch in plain Python: `requests` (the positions [lo, hi] each holds state
    for), `items` [(request, position)] in segments (a decode token or a prefill chunk, in
    shuffled order), `broken` (requests whose table must name a block outside the state at a
    position), `max_blocks` and `num_positions` (the RoPE table's rows)."""

    # Items that must produce nothing (batches of 16 items and more have one of each).
    SPECIALS = ("no request", "request past the table", "block outside the state",
                "negative block", "window past the table's columns", "position past INT32_MAX",
                "position past freqs", "padding")

    def __init__(self, m, items, rng):
        self.rng = rng
        self.ratio, self.bs = m["ratio"], m["state_block_size"]
        self.n = compress_torch.coff(m["overlap"]) * self.ratio
        self.requests, self.segments, self.broken = [], [], []
        specials = self.SPECIALS if items >= 16 else ()
        left = items - len(specials)
        while left:
            if left == 1 or rng.random() < 0.5:
                self._decode(anywhere=items > 1 and rng.random() < 0.1)
                left -= 1
            else:
                length = min(left, int(2 ** rng.uniform(0, math.log2(MAX_CHUNK))))
                start = rng.randrange(MAX_POSITION)
                r = self._request(start, start + length - 1)
                self.segments.append([(r, p) for p in range(start, start + length)])
                left -= length
        top = max(p for seg in self.segments for _, p in seg)
        # The RoPE table covers every boundary item so far (now and then just so).
        last_boundary = (top + 1) // self.ratio * self.ratio - 1
        self.num_positions = max(1, last_boundary + 2 - self.ratio) + rng.choice((0, 0, 1, 7))
        for kind in specials:
            self._special(kind)
        self.max_blocks = max(hi for _, hi in self.requests) // self.bs + 1 + rng.randrange(3)
        rng.shuffle(self.segments)
        self.items = [self._resolve(r, p) for seg in self.segments for r, p in seg]

    def _request(self, first, last):
        """A request holding the state its items' windows read: [first - n + 1, last]."""
        self.requests.append((max(0, first - self.n + 1), last))
        return len(self.requests) - 1

    def _boundary(self, above=0):
        """A random window's last position, above `above`."""
        k = self.rng.randrange(1, MAX_POSITION // self.ratio + 1) + -(-above // self.ratio)
        return k * self.ratio - 1

    def _decode(self, anywhere):
        """One token at a window's last position (`anywhere`: at any, mostly no boundary)."""
        p = self.rng.randrange(MAX_POSITION) if anywhere else self._boundary()
        self.segments.append([(self._request(p, p), p)])

    def _special(self, kind):
        # A window's last position whose RoPE row exists: each item fails for its one reason.
        p = self.rng.randrange(1, (self.num_positions - 1) // self.ratio + 2) * self.ratio - 1
        if kind in ("block outside the state", "negative block"):
            r = self._request(p, p)
            self.broken.append((r, p, kind))
        elif kind == "position past freqs":
            p = self._boundary(above=self.num_positions + self.ratio)
            r = self._request(p, p)
        else:
            r = kind  # resolved once the tables' sizes are known
        self.segments.append([(r, p)])

    def _resolve(self, r, p):
        if not isinstance(r, str):
            return r, p
        # A request whose state starts at position 0: a position cut to 32 bits would find
        # a first window there.
        first = [k for k, (lo, hi) in enumerate(self.requests) if lo == 0 and hi >= self.ratio - 1]
        some = first[0] if first else 0
        past_table = -(-(self.max_blocks * self.bs + self.n) // self.ratio) * self.ratio - 1
        return {"no request": (-1, p), "request past the table": (len(self.requests), p),
                "window past the table's columns": (some, past_table),
                "position past INT32_MAX": (some, 2**32 + self.ratio - 1),
                "padding": (some, -1)}[r]


def _tables(plan, rng):
    """(block table rows, num_blocks, [(block, first row, last row, position of row 0)] of the
    rows each request owns): every request's blocks at shuffled ids; columns no window reads
    are -1 or a spare block (all NaN), so a read of a wrong column shows."""
    bs = plan.bs
    needed = [(r, c) for r, (lo, hi) in enumerate(plan.requests)
              for c in range(lo // bs, hi // bs + 1)]
    num_blocks = len(needed) + SPARE_BLOCKS
    ids = list(range(num_blocks))
    rng.shuffle(ids)
    spare = ids[len(needed):]
    table = [[rng.choice((-1, spare[0])) for _ in range(plan.max_blocks)] for _ in plan.requests]
    owned = []
    for (r, c), block in zip(needed, ids):
        table[r][c] = block
        lo, hi = plan.requests[r]
        owned.append((block, max(lo, c * bs) - c * bs, min(hi, c * bs + bs - 1) - c * bs, c * bs))
    for r, q, kind in plan.broken:
        # A present window position whose block is outside [0, num_blocks).
        table[r][q // bs] = -1 - rng.randrange(3) if kind == "negative block" \
            else num_blocks + rng.randrange(3)
    return table, num_blocks, owned


def _fill_state(state, owned, d, overlap, gen):
    """kv uniform in [-2, 2]; score by channel class (channel c of either half, c % 4): 0
    uniform in [-3, 3], 1 equal (0.5), 2 a large spread, 3 -inf at positions q % 3 == 1 (every
    window keeps a finite score there); NaN in every row no request owns."""
    import torch

    num_blocks, bs, width2 = state.shape
    width = width2 // 2
    device = state.device
    row_q = torch.zeros(num_blocks, dtype=torch.int64)
    is_owned = torch.zeros(num_blocks, bs, dtype=torch.bool)
    for block, first, last, q0 in owned:
        row_q[block] = q0
        is_owned[block, first:last + 1] = True
    q = (row_q[:, None] + torch.arange(bs)).to(device)
    state[..., :width] = torch.rand(num_blocks, bs, width, generator=gen, device=device) * 4 - 2
    score = torch.rand(num_blocks, bs, width, generator=gen, device=device) * 6 - 3
    kind = torch.arange(width, device=device) % d % 4
    score[..., kind == 1] = 0.5
    score[..., kind == 2] *= LARGE_SPREAD
    minus_inf = (kind == 3)[None, None, :] & (q % 3 == 1)[..., None]
    score.masked_fill_(minus_inf, -math.inf)
    state[..., width:] = score
    state[~is_owned.to(device)] = math.nan


def random_batch(m, items, seed, padded, device):
    """`items` random items (the module docstring); with `padded`, the state's rows and blocks
    and the block table's rows have gaps (NaN, or valid block ids past max_blocks)."""
    import torch

    rng = random.Random(seed)
    gen = torch.Generator(device).manual_seed(seed)
    cpu = torch.Generator().manual_seed(seed)
    d, ratio, bs = m["head_dim"], m["ratio"], m["state_block_size"]
    layout = Layout(m["layout"], m["page_size"])
    plan = _Plan(m, items, rng)
    table, num_blocks, owned = _tables(plan, rng)
    width = 2 * compress_torch.coff(m["overlap"]) * d
    row_stride, block_stride = width, bs * width
    if padded:
        row_stride = width + 4 * rng.randint(1, 3)
        block_stride = bs * row_stride + 4 * rng.randint(1, 5)
    base = torch.full((num_blocks * block_stride,), math.nan, device=device)
    state = base.as_strided((num_blocks, bs, width), (block_stride, row_stride, 1))
    _fill_state(state, owned, d, m["overlap"], gen)
    extra = rng.randint(1, 5) if padded else 0
    owned_ids = [block for block, *_ in owned]
    wide = [row + [rng.choice(owned_ids) for _ in range(extra)] for row in table]
    block_table = torch.tensor(wide, dtype=torch.int32, device=device)[:, :plan.max_blocks]
    token_req = torch.tensor([r for r, _ in plan.items], dtype=torch.int32, device=device)
    positions = torch.tensor([p for _, p in plan.items], dtype=torch.int64, device=device)
    # Distinct slots, ~10% negative; the cache sized so that ~5% fall past its end.
    pages = -(-items // layout.page_size) + 1
    out_loc = torch.randperm(pages * layout.page_size, generator=cpu)[:items]
    out_loc = torch.where(torch.rand(items, generator=cpu) < 0.1, -1 - out_loc, out_loc)
    cache_bytes = max(1, int(pages * layout.page_bytes * 0.95))
    weight = 0.5 + torch.rand(d, generator=cpu)
    freqs = epilogue_torch.random_freqs(plan.num_positions, m["rope_dim"], cpu, device)
    note = f" (strides {block_stride}/{row_stride})" if padded else ""
    return Batch(base, state, block_table, token_req, positions, out_loc.to(device),
                 weight.to(device), freqs, cache_bytes, note)


def expected_of(m, batch):
    return compress_torch.Expected(
        batch.state, batch.block_table, batch.token_req, batch.positions, batch.weight,
        batch.freqs, m["eps"], m["ratio"], m["overlap"], m["head_dim"], m["rope_dim"],
        m["rotate"], m.get("scale"))


def judge(m, batch, cache, before, expected):
    """(ok, counts) of a cache after the launch: every byte outside the stored slots keeps
    `before`, every stored slot within code_steps of the float64 row's bytes."""
    import torch

    layout = Layout(m["layout"], m["page_size"])
    flavour = fp8_flavour(m)
    device = cache.device
    stores = store_torch.store_mask(layout, batch.out_loc, expected.active,
                                        torch.ones_like(expected.active), cache.numel())
    idx = stores.nonzero().flatten()
    slots = batch.out_loc[idx]
    assert torch.unique(slots).numel() == slots.numel(), "a batch's storing slots are distinct"
    where = torch.full((stores.numel(),), -1, dtype=torch.int64, device=device)
    where[expected.items] = torch.arange(expected.items.numel(), device=device)
    rows64 = expected.rows[where[idx]]
    row_at, scale_at, _ = layout.slot(slots)
    value_at = row_at[:, None] + torch.arange(layout.row_bytes, device=device)
    scales_at = scale_at[:, None] + torch.arange(layout.scale_bytes, device=device)
    in_slot = torch.zeros(cache.numel(), dtype=torch.bool, device=device)
    in_slot[value_at.flatten()] = True
    in_slot[scales_at.flatten()] = True
    changed = int(((cache != before) & ~in_slot).sum())
    got = (cache[value_at], cache[scales_at])
    # token_bytes cannot shape an empty batch's bytes; code_steps needs none then.
    want = store_torch.token_bytes(layout, rows64.float(), flavour) if idx.numel() else got
    steps = compress_torch.code_steps(layout, got, want, rows64, flavour)
    ok = compress_torch.steps_ok(steps) and changed == 0
    return ok, (f"{int(expected.producing.sum())} produce, {idx.numel()} store; "
                f"{compress_torch.describe_steps(steps)}; {changed} bytes outside the"
                f" slots changed")


def relative_error(got, want):
    scale = max(max(abs(v) for v in want), 1e-300)
    return max(abs(g - v) for g, v in zip(got, want)) / scale


def check_model(m, batch, expected, rng, sample=SAMPLED_ITEMS):
    """(ok, detail): compress_torch against compress_model.py on `sample` producing items
    and as many others: which produce, the pooled row and the finished row."""
    comp = Compressor(m["ratio"], m["overlap"], m["head_dim"])
    state = compress_torch.model_state(batch.state, batch.block_table)
    t_count = batch.token_req.numel()
    producing = expected.producing.tolist()
    chosen = rng.sample([t for t in range(t_count) if producing[t]],
                        min(sample, sum(producing)))
    others = [t for t in range(t_count) if not producing[t]]
    chosen += rng.sample(others, min(sample, len(others)))
    where = {t: k for k, t in enumerate(expected.items.tolist())}
    weight = batch.weight.tolist()
    scale = m.get("scale") if m["rotate"] else None
    plan_differ, rows_compared, worst = 0, 0, 0.0
    for t in chosen:
        r, p = int(batch.token_req[t]), int(batch.positions[t])
        if (comp.skip_reason(state, r, p) is None) != producing[t]:
            plan_differ += 1
            continue
        if t not in where:
            continue
        y = comp.pool(state, r, p)
        row = epilogue(y, weight, batch.freqs[comp.rope_position(p)].tolist(), m["eps"],
                       m["rope_dim"], scale)
        k = where[t]
        worst = max(worst, relative_error(expected.pooled[k].tolist(), y),
                    relative_error(expected.rows[k].tolist(), row))
        rows_compared += 1
    ok = plan_differ == 0 and worst <= MODEL_TOLERANCE and not math.isnan(worst)
    return ok, (f"torch reference == compress_model.py on {len(chosen)} sampled items: "
                f"{plan_differ} produce otherwise, {rows_compared} pooled and finished rows"
                f" within {worst:.1e}")


def check_batch(runtime, kernel, m, batch, label, rng):
    import torch

    name = f"{m['kernel']} {label}{batch.note}"
    before = pattern(batch.cache_bytes, batch.state.device)
    cache = before.clone()
    state_before = batch.base.clone()
    runtime.compress_quantize_store(batch.state, batch.block_table, batch.token_req,
                                    batch.positions, batch.weight, batch.freqs, batch.out_loc,
                                    cache, m["eps"], kernel=kernel)
    torch.cuda.synchronize()
    # Bits, so that the NaN rows compare equal to themselves.
    unchanged = torch.equal(batch.base.view(torch.int32), state_before.view(torch.int32))
    del state_before
    expected = expected_of(m, batch)
    ok, detail = judge(m, batch, cache, before, expected)
    verdict(ok and unchanged, f"{name}: {batch.token_req.numel()} items, {detail}, state "
            f"{'unchanged' if unchanged else 'CHANGED'}")
    ok, detail = check_model(m, batch, expected, rng)
    verdict(ok, f"{name}: {detail}")


def main(argv=None):
    import torch
    import dsv4.runtime as runtime
    from dsv4.library import Config

    args = objects.proof_arguments(__doc__.splitlines()[0], argv)
    found = [(m, binary) for m, binary, _ in objects.in_folders(args.objects, objects.PTX_TARGET)
             if m.get("mode") == "compress"]
    verdict(bool(found), f"compress kernels found in {' '.join(args.objects)}: {len(found)}")
    rng = random.Random(args.seed)
    for m, binary in found:
        # Each call states the manifest's configuration, which the shim holds to the object.
        kernel = runtime.Kernel(binary, config=Config.from_manifest(m))
        batch = case_batch(m, DEVICE)
        if batch is None:
            print(f"     {m['kernel']}: gen_compress.py's case does not fit this kernel",
                  flush=True)
        else:
            check_batch(runtime, kernel, m, batch, "case", rng)
        for k, items in enumerate(QUICK_SIZES if args.quick else RANDOM_SIZES):
            batch = random_batch(m, items, args.seed + items, k % 2 == 1, DEVICE)
            check_batch(runtime, kernel, m, batch, f"random {items}", rng)
            del batch
            torch.cuda.empty_cache()
    print(f"===== compress proof: {len(failures)} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
