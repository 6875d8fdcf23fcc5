"""Device proof of the fused FP8 paged store: every byte of the cache against SPEC.md's model.

For each store kernel (PTX + manifest with a `layout`) in the objects folders (each folder and
its store/ subfolder, where scripts/run puts them), and its in-place twin (same configuration,
no store), on a cache filled with a byte pattern:
  - the edge batch: boundary and non-boundary decode rows, padding, out_loc < 0, positions
    outside the table, slots in later pages, a slot ending exactly at the cache's end and one
    past it, an all-zero row, a NaN row, a tiny row (amax below 1e-4), a spiky row;
  - random batches of 1 .. 65536 items with random slots (some negative, some past the end).
The finished f32 rows come from the in-place kernel on a copy of kv (the same epilogue code, so
the same bits); the expected cache is store_torch.py's (torch) quantization of those rows,
itself held against store_model.py (plain Python, SPEC.md) on sampled rows of every batch. Every
byte must match: the stored slots and the untouched pattern around them.

Run (repo root): DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python \
  python3 device/store_proof.py --objects out [more folders] [--quick]
"""
import sys

import objects
from dsv4_reference import epilogue_torch, store_torch
from dsv4_reference.store_model import Layout, quantize_token

DEVICE = "cuda"
NUM_POSITIONS = 512
RANDOM_SIZES = (1, 7, 64, 256, 1000, 4096, 65536)
QUICK_SIZES = (1, 64, 1000)
SAMPLED_ROWS = 24

failures = []


def verdict(ok, text):
    print(f"{'ok  ' if ok else 'FAIL'} {text}", flush=True)
    if not ok:
        failures.append(text)


def twin_of(store, candidates):
    """(manifest, binary) of the in-place kernel of the store kernel's configuration."""
    keys = ("mode", "rotate", "kv_dtype", "weight_dtype", "head_dim", "rope_dim", "ratio", "eps")
    for m, binary, _ in candidates:
        if "layout" not in m and all(m[k] == store[k] for k in keys) and \
                m.get("scale") == store.get("scale"):
            return m, binary
    return None


def fp8_flavour(m):
    """store_model's name of a store manifest's FP8 type (SPEC.md: fnuz on gfx942, else fn)."""
    if "fp8_type" not in m:  # indexer_mxfp4: e2m1 codes, no FP8 type
        return None
    return "fnuz" if m["fp8_type"] == "f8E4M3FNUZ" else "fn"


def pattern(size, device=DEVICE):
    import torch

    return ((torch.arange(size, device=device, dtype=torch.int64) * 37 + 11) & 0xFF).to(torch.uint8)


class Batch:
    """Inputs of one launch: kv, the handle, out_loc, and which items are active/boundaries
    (on kv's device; freqs has `num_positions` rows)."""

    def __init__(self, m, kv, seq_lens=None, plan=None, out_loc=None,
                 num_positions=NUM_POSITIONS):
        import torch

        self.kv, self.out_loc = kv, out_loc
        ratio = m["ratio"]
        if m["mode"] == "decode":
            self.handle = seq_lens
            s = seq_lens.to(torch.int64)
            rows = torch.arange(s.numel(), device=kv.device)
            pos = torch.div(s - 1, ratio, rounding_mode="floor") * ratio
            self.active = (s > 0) & (pos >= 0) & (pos < num_positions) & (rows < kv.shape[0])
            self.boundary = s % ratio == 0
        else:
            self.handle = plan
            rows = plan[:, 0].to(torch.int64)
            pos = plan[:, 2].to(torch.int64) + 1 - ratio
            self.active = (rows >= 0) & (pos >= 0) & (pos < num_positions) & (rows < kv.shape[0])
            self.boundary = torch.ones_like(self.active)
        self.rows = rows.clamp(min=0, max=kv.shape[0] - 1)


def finished_rows(runtime, twin, m, batch, weight, freqs):
    """The f32 rows the store quantizes, one per item: the in-place kernel on a copy of kv."""
    out = batch.kv.clone()
    runtime.compress_norm_rope_hadamard_inplace(out, weight, freqs, batch.handle, m["eps"],
                                                kernel=twin)
    return out[batch.rows]


def expected_store(layout, batch, before, rows, flavour):
    """(the cache SPEC.md expects, which items store) after storing `batch` into a cache that
    held `before`, from its finished f32 rows (one per item)."""
    stores = store_torch.store_mask(layout, batch.out_loc, batch.active, batch.boundary,
                                        before.numel())
    return store_torch.expected_cache(layout, before, rows, batch.out_loc, stores,
                                          flavour), stores


def compare_cache(cache, want, stores, layout, flavour):
    """(every byte as expected, what was compared and where the first difference is)."""
    bad = store_torch.same_bytes(cache, want, layout, flavour)
    where = f" (first at byte {int(bad[0])}: got {int(cache[bad[0]])}, want {int(want[bad[0]])})" \
        if bad.numel() else ""
    return bad.numel() == 0, (f"{int(stores.sum())} of {stores.numel()} items store, "
                              f"{cache.numel()} bytes, {bad.numel()} differ{where}")


def check_batch(runtime, store, twin, m, layout, batch, weight, freqs, cache_bytes, label):
    import torch

    flavour = fp8_flavour(m)
    before = pattern(cache_bytes)
    cache = before.clone()
    runtime.compress_norm_rope_quantize_store(batch.kv, weight, freqs, batch.handle,
                                              batch.out_loc, cache, m["eps"], kernel=store)
    rows = finished_rows(runtime, twin, m, batch, weight, freqs)
    torch.cuda.synchronize()
    want, stores = expected_store(layout, batch, before, rows, flavour)
    ok, detail = compare_cache(cache, want, stores, layout, flavour)
    verdict(ok, f"{m['kernel']} {label}: {detail}")
    # The torch model against the plain-Python one, on the first storing rows.
    sample = stores.nonzero().flatten()[:SAMPLED_ROWS]
    if sample.numel():
        values, scales = store_torch.token_bytes(layout, rows[sample], flavour)
        agree = True
        for k, item in enumerate(sample.tolist()):
            bits = rows[item].view(torch.int32).tolist()
            v, s, _ = quantize_token(layout, [b & 0xFFFFFFFF for b in bits], flavour)
            got_v, got_s = bytes(values[k].tolist()), bytes(scales[k].tolist())
            nan_row = bool(torch.isnan(rows[item]).any())
            agree &= got_s == s and (got_v == v or nan_row)
        verdict(agree, f"{m['kernel']} {label}: torch model == store_model.py on "
                f"{sample.numel()} rows")


def edge_batch(m, layout):
    """Hand-picked items (see the module docstring); returns (batch, cache_bytes)."""
    import torch

    d, ratio, ps = m["head_dim"], m["ratio"], layout.page_size
    n = 12
    kv = torch.randn(n, d, device=DEVICE, generator=torch.Generator(DEVICE).manual_seed(7))
    kv[3] = 0.0                        # all zero
    kv[4, 5] = float("nan")            # a NaN row
    kv[5] *= 1e-9                      # tiny: amax below 1e-4 after the norm (eps dominates)
    kv[6] *= 1e-3
    kv[6, 17] = 1e3                    # spiky: the others round to FP8 subnormals or zero
    # Distinct slots: later pages, the cache's last slot (the cache ends exactly where that
    # slot's bytes end), one past it, and two negative ones.
    capacity = 9 * ps
    last = capacity - 1
    out_loc = [ps, 0, 2 * ps + 1 % ps, -1, 3 * ps, last, 4 * ps + 2 % ps, capacity, 5 * ps,
               6 * ps, -7, 7 * ps]
    cache_bytes = layout.slot(last)[2]
    out_loc = torch.tensor(out_loc, dtype=torch.int64, device=DEVICE)
    if m["mode"] == "decode":
        seq_lens = [ratio * k for k in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)]
        seq_lens[7] = ratio * 3 + 1     # not a boundary
        seq_lens[8] = 0                 # padding
        seq_lens[9] = NUM_POSITIONS + ratio * 4   # position outside the table
        handle = torch.tensor(seq_lens, dtype=torch.int32, device=DEVICE)
        return Batch(m, kv, seq_lens=handle, out_loc=out_loc), cache_bytes
    plan = torch.zeros(n, 4, dtype=torch.int32, device=DEVICE)
    plan[:, 0] = torch.arange(n, dtype=torch.int32)
    plan[:, 2] = torch.arange(n, dtype=torch.int32) * 3 + ratio - 1
    plan[8, 0] = -1                     # skipped item
    plan[9, 2] = NUM_POSITIONS + ratio  # position outside the table
    return Batch(m, kv, plan=plan, out_loc=out_loc), cache_bytes


def random_batch(m, layout, items, seed):
    """`items` random items over as many rows; distinct slots, ~10% negative, the cache sized so
    ~5% of the slots fall past its end."""
    import torch

    gen = torch.Generator(DEVICE).manual_seed(seed)
    d, ratio, ps = m["head_dim"], m["ratio"], layout.page_size
    kv = torch.randn(items, d, device=DEVICE, generator=gen)
    pages = -(-items // ps) + 1
    out_loc = torch.randperm(pages * ps, device=DEVICE, generator=gen)[:items]
    out_loc = torch.where(torch.rand(items, device=DEVICE, generator=gen) < 0.1,
                          -1 - out_loc, out_loc)
    cache_bytes = max(1, int(pages * layout.page_bytes * 0.95))
    if m["mode"] == "decode":
        seq_lens = torch.randint(0, NUM_POSITIONS + 2, (items,), device=DEVICE, generator=gen,
                                 dtype=torch.int32)
        half = torch.rand(items, device=DEVICE, generator=gen) < 0.5
        seq_lens = torch.where(half, seq_lens // ratio * ratio, seq_lens).to(torch.int32)
        return Batch(m, kv, seq_lens=seq_lens, out_loc=out_loc), cache_bytes
    plan = torch.zeros(items, 4, dtype=torch.int32, device=DEVICE)
    plan[:, 0] = torch.randperm(items, device=DEVICE, generator=gen).to(torch.int32)
    plan[:, 2] = torch.randint(ratio - 1, NUM_POSITIONS + ratio, (items,), device=DEVICE,
                               generator=gen, dtype=torch.int32)
    return Batch(m, kv, plan=plan, out_loc=out_loc), cache_bytes


def main(argv=None):
    import torch
    import dsv4.runtime as runtime
    from dsv4.library import Config

    args = objects.proof_arguments(__doc__.splitlines()[0], argv)
    candidates = objects.in_folders(args.objects, objects.PTX_TARGET)
    # A compress kernel has a layout too, but reads the paged state, and sglang's kinds are
    # sglang_proof.py's: not these store kernels.
    stores = [(m, b) for m, b, _ in candidates
              if "layout" in m and m["kv_dtype"] == "f32" and m["mode"] in ("decode", "prefill")]
    verdict(bool(stores), f"store kernels found in {' '.join(args.objects)}: {len(stores)}")
    for m, binary in stores:
        twin = twin_of(m, candidates)
        verdict(twin is not None, f"{m['kernel']}: in-place twin found")
        if twin is None:
            continue
        layout = Layout(m["layout"], m["page_size"])
        # Each call states the manifest's configuration, which the shim holds to the object.
        store = runtime.Kernel(binary, config=Config.from_manifest(m))
        twin = runtime.Kernel(twin[1], config=Config.from_manifest(twin[0]))
        gen = torch.Generator().manual_seed(args.seed)
        weight = (0.5 + torch.rand(m["head_dim"], generator=gen)).to(DEVICE)
        freqs = epilogue_torch.random_freqs(NUM_POSITIONS, m["rope_dim"], gen, DEVICE)
        batch, cache_bytes = edge_batch(m, layout)
        check_batch(runtime, store, twin, m, layout, batch, weight, freqs, cache_bytes, "edge")
        for items in (QUICK_SIZES if args.quick else RANDOM_SIZES):
            batch, cache_bytes = random_batch(m, layout, items, args.seed + items)
            check_batch(runtime, store, twin, m, layout, batch, weight, freqs, cache_bytes,
                        f"random {items}")
    print(f"===== store proof: {len(failures)} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
