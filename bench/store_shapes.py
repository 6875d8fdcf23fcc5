"""Store kernels of one layout under different shapes (lanes per row x rows per workgroup), side
by side with the layout's floor, in one run on an NVIDIA GPU: the evidence for a shape choice
(issue 24). Each kernel in FOLDER (with its .json) is timed at each row count, CUDA-graph replay,
cold at 65536 rows as in store_bench.py; a prefill kernel runs on the plan naming the same items.

Make variants (repo root), e.g. the indexer prefill kernel at 8 lanes x 16 rows:
  build/bin/dsv4-gen --mode=prefill --head-dim=128 --ratio=4 --layout=indexer --chip=sm_90 \
      --name=dsv4_prefill_idx_l8w16 | (cd tune && ../build/bin/dsv4-opt \
      "--dsv4-compile=chip=sm_90 output-dir=. lanes-per-row=8 rows-per-workgroup=16" -o /dev/null)
Run: DSV4_RUNTIME_LIB=... PYTHONPATH=python python3 bench/store_shapes.py tune --json shapes.json
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import objects  # noqa: E402
import store_bench  # noqa: E402
import timing  # noqa: E402
import workload  # noqa: E402

ROWS = (1, 64, 256, 8192, 65536)


def kernels(folder, runtime):
    """[(name, manifest, loaded kernel)] of the store kernels in `folder`, by name."""
    from dsv4.library import Config

    found = [(m["kernel"], m, runtime.Kernel(binary, config=Config.from_manifest(m)))
             for m, binary, _ in objects.manifests(folder, objects.PTX_TARGET) if m.get("layout")]
    return sorted(found, key=lambda k: k[0])


def run(folder, runtime, seed, l2_bytes, log):
    import dsv4.runtime as rt
    import triton_store
    import torch
    from dsv4_reference.store_model import Layout

    found = kernels(folder, runtime)
    if not found:
        sys.exit(f"error: no store kernel in {folder}")
    layouts = {(m["layout"], m["page_size"], m["head_dim"], m["ratio"]) for _, m, _ in found}
    if len(layouts) != 1:
        sys.exit(f"error: {folder} holds kernels of several layouts: {sorted(layouts)}")
    name, page_size, head_dim, ratio = layouts.pop()
    config = dict(store_bench.CONFIGS[name], ratio=ratio)
    layout = Layout(name, page_size)
    records = []
    for rows in ROWS:
        cache = "hot" if rows <= 256 else "cold"
        sets = 2 if cache == "hot" else max(2, min(workload.MAX_SETS,
                                                   -(-2 * l2_bytes // (rows * head_dim * 4))))
        s = store_bench.StoreWorkload(rows, sets, seed + rows, config, layout)
        impls = {"floor": lambda s, i: triton_store.quantize_store(
            s.layout, s.w.kv[i], s.w.seq_lens, s.out_loc, s.caches[i], ratio=ratio, floor=True)}
        for kernel_name, m, kernel in found:
            items = "plan" if m["mode"] == "prefill" else "seq_lens"
            impls[kernel_name] = (lambda kernel, items: lambda s, i:
                                  rt.compress_norm_rope_quantize_store(
                                      s.w.kv[i], s.w.weight, s.w.freqs, getattr(s.w, items),
                                      s.out_loc, s.caches[i], s.w.params["eps"],
                                      kernel=kernel))(kernel, items)
        for impl, fn in impls.items():
            call = lambda i: fn(s, i)  # noqa: E731
            graph = timing.summarize(timing.graph_times_us(call, sets,
                                                           timing.estimate_us(call, sets)))
            records.append({"layout": name, "rows": rows, "cache": cache, "impl": impl,
                            "bytes": s.bytes_moved, "graph": graph})
            log(f"{name} rows={rows:<6} {cache:<4} {impl:<40} {graph['median_us']:8.2f} us")
        del s
        torch.cuda.empty_cache()
    return records


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("--json", default="shapes.json")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv)
    seed, env = bench.begin_run("store shapes", args.seed)
    records = run(args.folder, bench.load_runtime(), seed, env["l2_bytes"],
                  lambda line: print(line, flush=True))
    with open(args.json, "w") as f:
        json.dump({"environment": env, "results": records}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
