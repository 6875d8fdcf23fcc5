"""dsv4's compress kernel (issue 20) against its Triton peers, the chain it replaces and the state
bytes' floor, on an NVIDIA GPU, in one run.

  configurations  indexer (D=128, R=64, rotate, ratio 4, overlap; FP8 indexer cache, 132 B a
                  token), main_r4 (D=512, no rotate, ratio 4, overlap; main cache, 584 B),
                  main_r128 (D=512, ratio 128); f32 state in blocks of 64 rows, pages of 64
                  tokens, f32 weight, eps and scale those of dsv4's kernel (compress_workload.py)
  batches         decode 1, 16, 64, 256 requests, one window-end token each, contexts of 1k-8k
                  tokens; prefill 8192 and 65536 tokens in chunks of 2048 a request, every token
                  an item (one in `ratio` produces a row)
  cold            each call reads its own set of windows; sets rotated over more than twice the L2
  columns         dsv4 (the compress kernel through the shim), triton (one launch, one program a
                  token: triton_compress.compress_store), triton-split (ratio 128: the pooling
                  spread over channel tiles into f32 rows, then a Triton norm/rope/quantize/store
                  launch), chain (triton_compress.pool writing f32 rows and a plan, then dsv4's
                  store kernel of the layout: the decode kernel on seq_lens, the prefill kernel on
                  the plan), floor (each producing token's window bytes read once, its cache bytes
                  written: triton_compress.floor)
Before timing, every peer's cache is compared with dsv4's (compress_check.py): the same slots
written, equal bytes elsewhere, every code within one step. A peer that fails is not timed.
Verdicts (issue 20): decode 1-256, indexer and main_r4: dsv4 <= 0.75x triton and <= 0.6x chain;
main_r128 decode: <= 5 us at 1 token and <= 1.3x floor at 256 tokens; prefill 8192 and 65536,
all three: <= 1.1x floor.

Run (repo root): DSV4_RUNTIME_LIB=/tmp/rt/lib/libdsv4_runtime.so PYTHONPATH=python \
  python3 bench/compress_bench.py --objects out --json compress.json
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checkout_paths  # noqa: E402,F401 - python/ and device/ on sys.path
import bench  # noqa: E402
import compress_check  # noqa: E402
import compress_workload as cw  # noqa: E402
import objects  # noqa: E402
import store_bench  # noqa: E402
import timing  # noqa: E402

DECODE_TOKENS = (1, 16, 64, 256)
PREFILL_TOKENS = (8192, 65536)
QUICK = {"decode": (1, 256), "prefill": (8192,)}
MAX_SETS = 16384       # a set of one indexer window is 8 KiB: 2x an H200's L2 takes ~15000
QUICK_MAX_SETS = 64
PEERS = ("triton", "triton-split", "chain")
IMPLS = ("dsv4",) + PEERS + ("floor",)
# (configurations, mode, tokens, against, limit): dsv4's median <= limit x against's median, or
# <= limit microseconds where against is None. `against` names a column of the same configuration,
# or "config:column" another configuration's (issue 21: the MXFP4 kernel against the FP8 one).
TARGETS = (
    (("indexer", "main_r4"), "decode", DECODE_TOKENS, "triton", 0.75),
    (("indexer", "main_r4"), "decode", DECODE_TOKENS, "chain", 0.6),
    (("main_r128",), "decode", (1,), None, 5.0),
    (("main_r128",), "decode", (256,), "floor", 1.3),
    (("indexer", "main_r4", "main_r128"), "prefill", PREFILL_TOKENS, "floor", 1.1),
    (("indexer_mxfp4",), "decode", DECODE_TOKENS, "indexer:dsv4", 1.0),
)


def find_compress_kernel(objects_dir, runtime, config):
    """(manifest, loaded kernel) of dsv4's compress kernel of `config` (state blocks and pages of
    64), in objects_dir/store (where scripts/run writes it) or objects_dir; or None."""
    from dsv4.library import Config

    want = (config["layout"], config["head_dim"], config["ratio"], config["overlap"],
            cw.STATE_BLOCK_SIZE, cw.PAGE_SIZE)
    for folder in (os.path.join(objects_dir, "store"), objects_dir):
        for m, binary, _ in objects.manifests(folder, objects.PTX_TARGET):
            if m["mode"] == "compress" and (m.get("layout"), m["head_dim"], m["ratio"],
                                            m.get("overlap"), m.get("state_block_size"),
                                            m.get("page_size")) == want:
                return m, runtime.Kernel(binary, config=Config.from_manifest(m))
    return None


def implementations(w, config, params, kernel, store_kernels):
    """{name: fn(set index)} of every column this configuration has, each launching on set s."""
    import triton_compress as tc

    layout, ratio, overlap = w.layout, config["ratio"], config["overlap"]
    eps, scale = params["eps"], params["scale"]
    sms = tc.multiprocessors()
    splits = tc.pick_splits(w.producing_per_set, config["head_dim"], sms)
    epilogue = dict(layout=layout, ratio=ratio, rope_dim=config["rope_dim"],
                    rotate=config["rotate"], eps=eps, scale=scale)

    def triton(s):
        tc.compress_store(w.state, w.block_table, w.token_req, w.positions, w.weight, w.freqs,
                          w.out_loc, w.cache, first=w.first(s), count=w.items, overlap=overlap,
                          **epilogue)

    def pool(s, pool_splits):
        tc.pool(w.state, w.block_table, w.token_req, w.positions, w.out_loc, w.rows, w.plan,
                w.seq_lens, first=w.first(s), count=w.items, head_dim=config["head_dim"],
                ratio=ratio, overlap=overlap, splits=pool_splits)

    def split(s):
        pool(s, splits)
        tc.finish_store(w.rows, w.plan, w.weight, w.freqs, w.out_loc, w.cache, first=w.first(s),
                        count=w.items, **epilogue)

    def floor(s):
        tc.floor(w.state, w.block_table, w.token_req, w.positions, w.out_loc, w.producing,
                 w.cache, first=s * w.producing_per_set, count=w.producing_per_set,
                 layout=layout, ratio=ratio, overlap=overlap, splits=splits)

    # The Triton peers and the floor write the FP8 layouts only: the MXFP4 indexer cache is
    # held to the chain (Triton pool, dsv4's MXFP4 store kernel) and to the FP8 indexer's row.
    fp8 = layout.name != "indexer_mxfp4"
    impls = {"triton": triton} if fp8 else {}
    if ratio > 4:
        impls["triton-split"] = split
    store_kernel = store_kernels.get(w.batch.mode)
    if store_kernel is not None or kernel is not None:
        import dsv4.runtime as runtime
    if store_kernel is not None:
        handle = w.seq_lens if w.batch.mode == "decode" else w.plan

        def chain(s):
            pool(s, splits)
            runtime.compress_norm_rope_quantize_store(
                w.rows, w.weight, w.freqs, handle, w.of_set(w.out_loc, s), w.cache, eps,
                kernel=store_kernel)

        impls["chain"] = chain
    if fp8:
        impls["floor"] = floor
    if kernel is not None:
        def dsv4(s):
            runtime.compress_quantize_store(
                w.state, w.block_table, w.of_set(w.token_req, s), w.of_set(w.positions, s),
                w.weight, w.freqs, w.of_set(w.out_loc, s), w.cache, eps, kernel=kernel)

        impls = dict(dsv4=dsv4, **impls)
    return impls


def agreement(w, impls):
    """compress_check's counts of each peer's cache against dsv4's, on set 0."""
    import torch

    w.cache.fill_(cw.PATTERN)
    impls["dsv4"](0)
    want = w.cache.clone()
    found = {}
    for peer in PEERS:
        if peer in impls:
            w.cache.fill_(cw.PATTERN)
            impls[peer](0)
            torch.cuda.synchronize()
            found[peer] = compress_check.compare(w.layout, want, w.cache, w.slots(0), cw.PATTERN)
    return found


def parameters(manifest, config):
    """eps and scale of dsv4's kernel (its manifest), so that every column computes the same."""
    if manifest is not None:
        return {"eps": manifest["eps"], "scale": manifest["scale"] if config["rotate"] else 1.0}
    return {"eps": 1e-6, "scale": config["head_dim"] ** -0.5 if config["rotate"] else 1.0}


def run(objects_dir, runtime, seed, l2_bytes, sizes, max_sets, config_names, log):
    import torch

    records = []
    for name in config_names:
        config = cw.CONFIGS[name]
        found = find_compress_kernel(objects_dir, runtime, config) if runtime else None
        if found is None:
            log(f"no dsv4 compress kernel for {name} (state blocks {cw.STATE_BLOCK_SIZE}, pages "
                f"{cw.PAGE_SIZE}) in {objects_dir}/store or {objects_dir}: timing the peers only")
        manifest, kernel = found or (None, None)
        store_kernels = {}
        for mode in ("decode", "prefill"):
            got = store_bench.find_store_kernel(objects_dir, runtime, config["layout"], config,
                                                mode) if runtime else None
            if got is None:
                log(f"no dsv4 {mode} store kernel for {name}: no chain at {mode}")
            else:
                store_kernels[mode] = got[1]
        params = parameters(manifest, config)
        for mode in ("decode", "prefill"):
            for tokens in sizes[mode]:
                sets = cw.num_sets(cw.set_bytes(config, mode, tokens), l2_bytes, max_sets)
                records += run_size(name, mode, tokens, sets, seed + tokens, params, kernel,
                                    store_kernels, log)
                torch.cuda.empty_cache()  # the size's state, gone with run_size's frame
    return records


def run_size(name, mode, tokens, sets, seed, params, kernel, store_kernels, log):
    """The records of one configuration, mode and size: each peer's agreement with dsv4, then
    every column that agrees timed. Its tensors are freed on return."""
    config = cw.CONFIGS[name]
    build = cw.decode_batch if mode == "decode" else cw.prefill_batch
    batch = build(config, tokens, sets, seed)
    w = cw.CompressWorkload(batch, seed)
    impls = implementations(w, config, params, kernel, store_kernels)
    key = {"config": name, "mode": mode, "tokens": tokens, "sets": sets,
           "producing": w.producing_per_set, "bytes": batch.bytes_per_call}
    records, broken = [], set()
    if "dsv4" in impls:
        for peer, stats in agreement(w, impls).items():
            ok = compress_check.agreement_ok(stats)
            records.append(dict(key, impl="agreement", peer=peer, ok=ok, **stats))
            log(f"{name:<9} {mode:<7} {tokens:<6} {peer:<12} vs dsv4: {stats['slots']} slots, "
                f"{stats['unwritten']} unwritten, {stats['outside_differ']} bytes outside "
                f"differ, {stats['codes_far']} codes > 1 step, {stats['scale_differ']} scales "
                f"differ{'' if ok else '  ! not the same cache: not timed'}")
            if not ok:
                broken.add(peer)
    for impl, fn in impls.items():
        if impl in broken:
            continue
        est = timing.estimate_us(fn, sets)
        graph = timing.summarize(timing.graph_times_us(fn, sets, est))
        records.append(dict(key, impl=impl, graph=graph))
        log(f"{name:<9} {mode:<7} {tokens:<6} sets={sets:<5} {impl:<12} "
            f"{graph['median_us']:9.2f} us")
    return records


def medians(records):
    return {(r["config"], r["mode"], r["tokens"], r["impl"]): r["graph"]["median_us"]
            for r in records if r.get("graph")}


def verdicts(records):
    """Issues 20's and 21's targets, one line each: (text, met). No line where dsv4 was not timed;
    a line that is missed where the column it is held to was not timed (e.g. failed its check)."""
    med = medians(records)
    lines = []
    for names, mode, sizes, against, limit in TARGETS:
        for name in names:
            for tokens in sizes:
                fused = med.get((name, mode, tokens, "dsv4"))
                if fused is None:
                    continue
                head = f"{name} {mode} {tokens} tokens: dsv4 {fused:.2f} us"
                if against is None:
                    lines.append((f"{head} (target <= {limit} us)", fused <= limit))
                    continue
                config, _, impl = against.rpartition(":")
                other = med.get((config or name, mode, tokens, impl))
                if other is None:
                    lines.append((f"{head}, no {against} timing (target <= {limit}x {against})",
                                  False))
                    continue
                ratio = fused / other
                lines.append((f"{head} = {ratio:.2f}x {against} (target <= {limit}x)",
                              ratio <= limit))
    return lines


def table(records):
    """Markdown table of the medians (us): one line per configuration, mode and tokens; dsv4 over
    the floor; the floor's bandwidth."""
    med = medians(records)
    keys = sorted({k[:3] for k in med}, key=lambda k: (list(cw.CONFIGS).index(k[0]),
                                                        k[1] != "decode", k[2]))
    bytes_of = {(r["config"], r["mode"], r["tokens"]): r["bytes"] for r in records
                if r.get("graph")}
    lines = ["| config | mode | tokens | " + " | ".join(IMPLS) + " | dsv4/floor | floor GB/s |",
             "|" + " --- |" * (len(IMPLS) + 5)]
    for key in keys:
        cells = [f"{med[key + (i,)]:.2f}" if key + (i,) in med else "-" for i in IMPLS]
        fused, floor = med.get(key + ("dsv4",)), med.get(key + ("floor",))
        ratio = f"{fused / floor:.2f}" if fused and floor else "-"
        rate = f"{bytes_of[key] / floor / 1e3:.0f}" if floor else "-"
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells)
                     + f" | {ratio} | {rate} |")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--objects", default="out",
                   help="folder of the compiled kernels; compress and store kernels are looked "
                        "for in its store/ (default: out)")
    p.add_argument("--json", default="compress.json", help="where to write the results")
    p.add_argument("--seed", type=int, default=None, help="input seed (default: from the clock)")
    p.add_argument("--configs", default=",".join(cw.CONFIGS),
                   help="comma-separated configurations (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: decode {QUICK['decode']}, prefill {QUICK['prefill']}, at "
                        f"most {QUICK_MAX_SETS} sets (not cold at small sizes)")
    args = p.parse_args(argv)
    args.configs = args.configs.split(",")
    unknown = [c for c in args.configs if c not in cw.CONFIGS]
    if unknown:
        p.error(f"unknown configuration {unknown}: choose from {list(cw.CONFIGS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    seed, env = bench.begin_run("compress bench", args.seed)
    sizes = QUICK if args.quick else {"decode": DECODE_TOKENS, "prefill": PREFILL_TOKENS}
    records = run(args.objects, bench.load_runtime(), seed, env["l2_bytes"], sizes,
                  QUICK_MAX_SETS if args.quick else MAX_SETS, args.configs,
                  lambda line: print(line, flush=True))
    lines = verdicts(records)
    print("\n" + table(records) + "\n")
    for text, met in lines:
        print(f"{'met   ' if met else 'MISSED'} {text}")
    with open(args.json, "w") as f:
        json.dump({"environment": env, "quick": args.quick, "results": records,
                   "verdicts": [{"text": t, "met": m} for t, m in lines]}, f, indent=1)
    print(f"full numbers: {args.json}")
    broken = [r for r in records if r.get("ok") is False]
    return 1 if broken or not lines else 0


if __name__ == "__main__":
    sys.exit(main())
