"""dsv4's store step against sglang's own CUDA kernels of the same step (issue 24), on an NVIDIA
GPU, in one run.

  layouts  indexer (D=128, R=64, rotate: FP8 codes and an f32 scale, 132 B a token) and main
           (D=512, R=64, no rotate: FP8 nope codes, bf16 rope channels, ue8m0 scales, 584 B a
           token); ratio 4, pages of 64 tokens, f32 kv and weight, eps that of dsv4's kernel
  modes    decode (sglang's DecodePlan structs, every row a window end, row b at out_loc[b]) and
           extend (CompressPlan structs, row m at out_loc[m]); plans.py packs them
  rows     1, 64, 256 (hot: two input sets) and 4096, 65536 (cold: input sets and caches rotated
           over more than twice the L2)
  columns  dsv4 (dsv4.frameworks.sglang.compress_norm_rope_store: sglang's call, argument for
           argument, on dsv4's sglang_decode / sglang_extend kernel of the library), sglang
           (sglang's fused_norm_rope_indexer / fused_norm_rope_flashmla, launched as sglang
           launches them on sm_90: programmatic dependent launch on), sglang-nopdl (the same
           kernels launched without it)
  ratio    dsv4 over the faster sglang column (no target yet)
Times are CUDA-graph replays of back-to-back calls, median of trials (timing.py), microseconds.
Before timing, each sglang column's cache is compared with dsv4's on the same batch
(compress_check.compare: the same slots written, equal bytes elsewhere, every FP8 code within one
step where the scales agree), and the bytes that differ at all are counted: SPEC.md's layouts are
sglang's, so the caches are expected to be equal or a code step apart where the two kernels'
orders of summation round a last bit differently.

sglang's kernels come from a peer library named with --peer-lib; without one, dsv4 is timed
alone. The library is not part of this repository (sglang's source is not committed here; see
bench/README.md). It is any shared library that exports, with C linkage:
  int sglang_peer_store(int head_dim, int is_decode, int use_pdl, const void *kv,
                        const void *plan, const void *weight, float eps, const void *freqs_cis,
                        const void *out_loc, void *kvcache, unsigned compress_ratio,
                        unsigned num_tokens, void *stream);
      one launch of sglang's kernel of FusedNormRopeKernel<float, head_dim, 64, page size,
      use_pdl>::forward (head_dim 128: the indexer, 512: flashmla; is_decode picks the
      DecodePlan or CompressPlan mode; no DCP: world size 1) with the grid and block that
      forward uses, on `stream`; kv f32 [N, D], plan uint8 [N, 16], weight f32 [D], freqs_cis
      f32 [P, 64], out_loc int64, kvcache uint8; returns the launch's cudaError_t (0: launched)
  int sglang_peer_page_size(void);          the page size it was built for
  const char *sglang_peer_source(void);     where its kernels come from (repository, commit, file)
  const char *sglang_peer_error(int error); cudaGetErrorString(error)

Run (repo root, the shim built, the library's store kernels in out/store):
  DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python \\
    python3 bench/sglang_peer/bench.py --objects out --peer-lib PEER.so \\
      --json "${OUT:-.}/sglang_peer.json"
"""
import argparse
import ctypes
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/ ahead of this folder: `bench` is bench/bench.py, not this script; this folder for
# plans.py (also when a test imports this file by path).
sys.path.insert(0, os.path.dirname(HERE))
if HERE not in sys.path:
    sys.path.append(HERE)
import checkout_paths  # noqa: E402,F401 - python/ and device/ on sys.path
import bench  # noqa: E402
import compress_check  # noqa: E402
import plans  # noqa: E402
import timing  # noqa: E402

LAYOUTS = {"indexer": {"head_dim": 128, "rotate": True},
           "main": {"head_dim": 512, "rotate": False}}
MODES = ("decode", "extend")
ROWS = (1, 64, 256, 4096, 65536)
HOT_ROWS = 256          # up to this many rows: two input sets (a decode step's data is hot)
MAX_SETS = 64
RATIO = 4
ROPE_DIM = 64
PAGE_SIZE = 64
NUM_POSITIONS = 4096
PATTERN = 0x5A          # every cache byte before a checked call: a slot left unwritten keeps it
DEVICE = "cuda"
PEERS = ("sglang", "sglang-nopdl")
IMPLS = ("dsv4",) + PEERS
DSV4_MODES = {"decode": "sglang_decode", "extend": "sglang_extend"}


class Peer:
    """sglang's store kernels in a shared library of the ABI above."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        lib = ctypes.CDLL(self.path)
        c_int, c_ptr = ctypes.c_int, ctypes.c_void_p
        self._store = lib.sglang_peer_store
        self._store.restype = c_int
        self._store.argtypes = [c_int, c_int, c_int, c_ptr, c_ptr, c_ptr, ctypes.c_float, c_ptr,
                                c_ptr, c_ptr, ctypes.c_uint, ctypes.c_uint, c_ptr]
        lib.sglang_peer_page_size.restype = c_int
        lib.sglang_peer_page_size.argtypes = []
        lib.sglang_peer_source.restype = ctypes.c_char_p
        lib.sglang_peer_source.argtypes = []
        self._error = lib.sglang_peer_error
        self._error.restype = ctypes.c_char_p
        self._error.argtypes = [c_int]
        self.page_size = lib.sglang_peer_page_size()
        self.source = lib.sglang_peer_source().decode()
        if self.page_size != PAGE_SIZE:
            raise ValueError(f"peer library {self.path} stores pages of {self.page_size} tokens; "
                             f"the bench's are {PAGE_SIZE}")

    def store(self, w, s, pdl):
        import torch

        error = self._store(w.head_dim, w.mode == "decode", pdl, w.kv[s].data_ptr(),
                            w.structs.data_ptr(), w.weight.data_ptr(), w.eps, w.freqs.data_ptr(),
                            w.out_loc.data_ptr(), w.caches[s].data_ptr(), RATIO, w.rows,
                            torch.cuda.current_stream().cuda_stream)
        if error:
            raise RuntimeError(f"sglang peer launch failed: {self._error(error).decode()} "
                               f"(cudaError {error})")


def num_sets(rows, head_dim, page_bytes, l2_bytes):
    """Two input sets up to HOT_ROWS rows; above, enough that a pass over the sets' kv and caches
    moves more than twice the L2 (at least two, at most MAX_SETS)."""
    if rows <= HOT_ROWS:
        return 2
    per_set = rows * head_dim * 4 + -(-rows // PAGE_SIZE) * page_bytes
    return max(2, min(MAX_SETS, math.ceil(2 * l2_bytes / per_set)))


class PeerWorkload:
    """One batch of one layout and mode: `sets` kv sets and caches (PATTERN bytes), one plan,
    weight, freqs table and out_loc (distinct slots over just enough pages) shared by them."""

    def __init__(self, layout, mode, rows, sets, seed, eps):
        import torch
        import sglang_proof
        from dsv4_reference import epilogue_torch
        from dsv4_reference.store_model import Layout

        self.head_dim = LAYOUTS[layout]["head_dim"]
        self.layout = Layout(layout, PAGE_SIZE)
        self.mode, self.rows, self.sets, self.eps = mode, rows, sets, eps
        gen = torch.Generator(device=DEVICE).manual_seed(seed)
        self.kv = [torch.randn(rows, self.head_dim, device=DEVICE, generator=gen)
                   for _ in range(sets)]
        self.weight = 0.5 + torch.rand(self.head_dim, device=DEVICE, generator=gen)
        # f32 [P, 64], (cos, sin) interleaved: sglang's freqs_cis; dsv4's adapter takes the
        # complex view of the same memory, as sglang's caller holds it.
        self.freqs = epilogue_torch.random_freqs(NUM_POSITIONS, ROPE_DIM,
                                                 torch.Generator().manual_seed(seed), DEVICE)
        self.freq_cis = self.freqs.view(torch.complex64)
        self.structs = plans.to_tensor(torch, plans.batch(mode, rows, RATIO, NUM_POSITIONS, seed),
                                       DEVICE)
        self.plan = (sglang_proof.DecodePlan(RATIO, self.structs) if mode == "decode" else
                     sglang_proof.PrefillPlan(RATIO, self.structs, None, None))
        pages = -(-rows // PAGE_SIZE)
        self.out_loc = torch.randperm(pages * PAGE_SIZE, device=DEVICE,
                                      generator=gen)[:rows].to(torch.int64)
        self.caches = [torch.full((pages * self.layout.page_bytes,), PATTERN, dtype=torch.uint8,
                                  device=DEVICE) for _ in range(sets)]

    @property
    def bytes_moved(self):
        """Fewest bytes a store must move: each f32 row read, each token written."""
        return self.rows * (self.head_dim * 4 + self.layout.row_bytes + self.layout.scale_bytes)


def implementations(w, peer, dsv4_ok):
    """{column: fn(set index)} of the columns this run has."""
    impls = {}
    if dsv4_ok:
        from dsv4.frameworks import sglang

        def dsv4(s):
            sglang.compress_norm_rope_store(w.kv[s], w.plan, norm_weight=w.weight, norm_eps=w.eps,
                                            freq_cis=w.freq_cis, out_loc=w.out_loc,
                                            kvcache=w.caches[s], page_size=PAGE_SIZE)

        impls["dsv4"] = dsv4
    if peer is not None:
        impls["sglang"] = lambda s: peer.store(w, s, pdl=True)
        impls["sglang-nopdl"] = lambda s: peer.store(w, s, pdl=False)
    return impls


def agreement(w, impls):
    """compress_check's counts of each sglang column's cache against dsv4's, on set 0, and the
    number of cache bytes that differ at all."""
    import torch

    cache = w.caches[0]
    cache.fill_(PATTERN)
    impls["dsv4"](0)
    want = cache.clone()
    found = {}
    for peer in PEERS:
        if peer in impls:
            cache.fill_(PATTERN)
            impls[peer](0)
            torch.cuda.synchronize()
            stats = compress_check.compare(w.layout, want, cache, w.out_loc, PATTERN)
            stats["bytes_differ"] = int((want != cache).sum())
            found[peer] = stats
    return found


def describe(stats):
    """One phrase for an agreement record."""
    if stats["bytes_differ"] == 0:
        return "byte-equal"
    return (f"{stats['bytes_differ']} bytes differ ({stats['codes_far']} codes > 1 step, "
            f"{stats['scale_differ']} of {stats['slots']} slots' scales, "
            f"{stats['outside_differ']} outside, {stats['unwritten']} unwritten)")


def run_size(layout, mode, rows, sets, seed, eps, peer, dsv4_ok, log):
    """The records of one layout, mode and size: the sglang columns' agreement with dsv4, then
    every column timed (a column whose launch fails gets an error record)."""
    w = PeerWorkload(layout, mode, rows, sets, seed, eps)
    impls = implementations(w, peer, dsv4_ok)
    key = {"layout": layout, "mode": mode, "rows": rows, "sets": sets, "bytes": w.bytes_moved}
    records = []
    head = f"{layout:<7} {mode:<6} {rows:<6}"
    if "dsv4" in impls and peer is not None:
        try:
            for name, stats in agreement(w, impls).items():
                ok = compress_check.agreement_ok(stats)
                records.append(dict(key, impl="agreement", peer=name, ok=ok, **stats))
                log(f"{head} {name:<12} vs dsv4: {describe(stats)}"
                    f"{'' if ok else '  ! not the same cache'}")
        except Exception as e:  # noqa: BLE001 - a failing launch is timed (and reported) below
            records.append(dict(key, impl="agreement", ok=False, error=f"{type(e).__name__}: {e}"))
            log(f"{head} agreement not checked: {type(e).__name__}: {e}")
    for impl, fn in impls.items():
        try:
            est = timing.estimate_us(fn, sets)
            graph = timing.summarize(timing.graph_times_us(fn, sets, est))
        except Exception as e:  # noqa: BLE001 - one column's failure must not cost the others
            records.append(dict(key, impl=impl, ok=False, error=f"{type(e).__name__}: {e}"))
            log(f"{head} sets={sets:<3} {impl:<12} ERROR {type(e).__name__}: {e}")
            continue
        records.append(dict(key, impl=impl, graph=graph))
        log(f"{head} sets={sets:<3} {impl:<12} {graph['median_us']:9.2f} us")
    return records


def dsv4_eps(layout, mode, log):
    """eps of dsv4's f32 store kernel of this layout and mode in the library (int64 out_loc,
    pages of PAGE_SIZE, ratio RATIO), so that both columns compute the same rows; None (dsv4 not
    timed) where the library has no such kernel."""
    import torch
    from dsv4 import library

    want = (DSV4_MODES[mode], layout, LAYOUTS[layout]["head_dim"], RATIO, "f32", "f32", PAGE_SIZE,
            "i64")
    for m in library.library_kernels(library.chip_of(torch.device(DEVICE))):
        if (m["mode"], m.get("layout"), m["head_dim"], m["ratio"], m["kv_dtype"],
                m["weight_dtype"], m.get("page_size"), m.get("out_loc_dtype") or "i64") == want:
            return m["eps"]
    log(f"no dsv4 {DSV4_MODES[mode]} f32 kernel of layout {layout}, ratio {RATIO}, pages of "
        f"{PAGE_SIZE} in the library ($DSV4_KERNEL_DIR): dsv4 not timed there")
    return None


def run(peer, runtime, seed, l2_bytes, layouts, modes, rows_list, log):
    import torch
    from dsv4_reference.store_model import Layout

    records = []
    for layout in layouts:
        for mode in modes:
            eps = dsv4_eps(layout, mode, log) if runtime is not None else None
            for rows in rows_list:
                sets = num_sets(rows, LAYOUTS[layout]["head_dim"],
                                Layout(layout, PAGE_SIZE).page_bytes, l2_bytes)
                records += run_size(layout, mode, rows, sets, seed + rows,
                                    eps if eps is not None else 1e-6, peer, eps is not None, log)
                torch.cuda.empty_cache()  # the size's tensors, gone with run_size's frame
    return records


def medians(records):
    return {(r["layout"], r["mode"], r["rows"], r["impl"]): r["graph"]["median_us"]
            for r in records if r.get("graph")}


def ratios(records):
    """Per layout, mode and rows: dsv4's median, the faster sglang column and its median, and
    dsv4 / that (None where either side was not timed)."""
    med = medians(records)
    keys = sorted({k[:3] for k in med}, key=lambda k: (list(LAYOUTS).index(k[0]),
                                                        MODES.index(k[1]), k[2]))
    out = []
    for key in keys:
        timed = [(med[key + (p,)], p) for p in PEERS if key + (p,) in med]
        peer_us, peer = min(timed) if timed else (None, None)
        dsv4_us = med.get(key + ("dsv4",))
        ratio = dsv4_us / peer_us if dsv4_us is not None and peer_us else None
        out.append({"layout": key[0], "mode": key[1], "rows": key[2], "dsv4_us": dsv4_us,
                    "sglang_us": peer_us, "peer": peer, "ratio": ratio})
    return out


def table(records):
    """Markdown table: the columns' medians (us), dsv4 over the faster sglang column, and the
    cache check of the sglang kernel (its PDL launch) against dsv4."""
    med = medians(records)
    checks = {(r["layout"], r["mode"], r["rows"]): r for r in records
              if r["impl"] == "agreement" and r.get("peer", "sglang") == "sglang"}
    lines = ["| layout | mode | rows | " + " | ".join(f"{i} us" for i in IMPLS)
             + " | dsv4/sglang | cache vs dsv4 |",
             "|" + " --- |" * (len(IMPLS) + 5)]
    for r in ratios(records):
        key = (r["layout"], r["mode"], r["rows"])
        cells = [f"{med[key + (i,)]:.2f}" if key + (i,) in med else "-" for i in IMPLS]
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        check = checks.get(key)
        if check is None:
            verdict = "-"
        elif "error" in check:
            verdict = "not checked"
        else:
            verdict = ("byte-equal" if check["bytes_differ"] == 0 else
                       f"{check['bytes_differ']} B differ" + ("" if check["ok"] else " (FAIL)"))
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells)
                     + f" | {ratio} | {verdict} |")
    return "\n".join(lines)


def parse_list(text, allowed, convert=str):
    items = [convert(t) for t in text.split(",") if t]
    unknown = [t for t in items if allowed is not None and t not in allowed]
    if unknown or not items:
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {list(allowed)}")
    return items


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", default="out",
                   help="kernel library folder for dsv4 ($DSV4_KERNEL_DIR when unset; "
                        "default: out)")
    p.add_argument("--peer-lib", help="shared library of sglang's kernels (the ABI above); "
                                      "without it dsv4 is timed alone")
    p.add_argument("--json", default="sglang_peer.json", help="where to write the results")
    p.add_argument("--seed", type=int, default=None, help="input seed (default: from the clock)")
    p.add_argument("--layouts", default=",".join(LAYOUTS),
                   type=lambda t: parse_list(t, LAYOUTS), help="default: %(default)s")
    p.add_argument("--modes", default=",".join(MODES), type=lambda t: parse_list(t, MODES),
                   help="default: %(default)s")
    p.add_argument("--rows", default=",".join(map(str, ROWS)),
                   type=lambda t: parse_list(t, None, int), help="default: %(default)s")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("DSV4_KERNEL_DIR", os.path.abspath(args.objects))
    seed, env = bench.begin_run("sglang peer bench", args.seed)
    peer = Peer(args.peer_lib) if args.peer_lib else None
    if peer is None:
        print("no --peer-lib: sglang's kernels are not timed, dsv4 alone is (bench/README.md "
              "says why the peer is not in this repository)", flush=True)
    else:
        print(f"peer: {peer.path}: {peer.source}", flush=True)
    runtime = bench.load_runtime()
    records = run(peer, runtime, seed, env["l2_bytes"], args.layouts, args.modes, args.rows,
                  lambda line: print(line, flush=True))
    print("\n" + table(records) + "\n")
    summary = ratios(records)
    with open(args.json, "w") as f:
        json.dump({"environment": env,
                   "peer": {"library": peer.path, "source": peer.source} if peer else None,
                   "ratio": RATIO, "page_size": PAGE_SIZE, "results": records,
                   "ratios": summary}, f, indent=1)
    print(f"full numbers: {args.json}")
    broken = [r for r in records if r.get("ok") is False]
    return 1 if broken or not summary else 0


if __name__ == "__main__":
    sys.exit(main())
