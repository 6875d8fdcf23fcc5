"""Markdown tables and target verdicts of a production-matrix run (matrix.py's JSON), as
BENCHMARKS.md shows them. Pure Python (test_matrix_report.py).

Run: python3 bench/matrix_report.py matrix.json
"""
import argparse
import json
import sys

COLUMNS = ("dsv4", "ref", "copy", "floor")
DECODE_ROWS = (1, 8, 64, 256)          # decode batches: the latency targets
COPY_GAP_US = 0.4                      # dsv4 at most this far above the copy there
BANDWIDTH_ROWS, COPY_RATIO = 8192, 1.15  # from this many rows: at most this times the cold copy


def _index(records):
    return {(r["config"], r["kv_dtype"], r["mode"], r["cache"], r["rows"], r["impl"]): r["graph"]["median_us"]
            for r in records if r.get("graph")}


def _cell(value):
    return "-" if value is None else f"{value:.2f}"


def table(records, config, kv_dtype):
    """One markdown table: rows (decode, then prefill) x cache, µs per column, dsv4/ref, dsv4 - copy."""
    t = _index(records)
    keys = sorted({(r["mode"] != "decode", r["rows"], r["cache"] != "hot") for r in records
                   if r["config"] == config and r["kv_dtype"] == kv_dtype})
    lines = ["| mode | rows | cache | " + " | ".join(COLUMNS) + " | dsv4/ref | dsv4 − copy |",
             "|---|---:|---|" + "---:|" * (len(COLUMNS) + 2)]
    for prefill, rows, cold in keys:
        mode, cache = ("prefill" if prefill else "decode"), ("cold" if cold else "hot")
        v = {c: t.get((config, kv_dtype, mode, cache, rows, c)) for c in COLUMNS}
        ratio = v["dsv4"] / v["ref"] if v["dsv4"] and v["ref"] else None
        gap = v["dsv4"] - v["copy"] if v["dsv4"] and v["copy"] else None
        lines.append(f"| {mode} | {rows} | {cache} | " + " | ".join(_cell(v[c]) for c in COLUMNS)
                     + f" | {_cell(ratio)}{'×' if ratio else ''} | {_cell(gap)} |")
    return "\n".join(lines)


def verdicts(records):
    """[(target, configuration, met, detail)] for the issue's speed targets."""
    t = _index(records)
    out = []
    for config, kv_dtype in sorted({(r["config"], r["kv_dtype"]) for r in records}):
        name = f"{config} {kv_dtype}"
        worst_ratio, worst_gap, where = None, None, []
        for cache in ("hot", "cold"):
            for rows in DECODE_ROWS:
                d, ref, copy = (t.get((config, kv_dtype, "decode", cache, rows, c)) for c in ("dsv4", "ref", "copy"))
                if None in (d, ref, copy):
                    where.append(f"{cache} {rows}: not measured")
                    worst_ratio = worst_gap = float("inf")
                    continue
                worst_ratio = max(worst_ratio or 0.0, d / ref)
                worst_gap = max(worst_gap or -1e9, d - copy)
        out.append(("decode 1-256 rows <= 1.0x reference", name, worst_ratio is not None and worst_ratio <= 1.0,
                    f"worst {worst_ratio:.2f}x" + (f" ({'; '.join(where)})" if where else "")))
        out.append((f"decode 1-256 rows within {COPY_GAP_US} us of the copy", name,
                    worst_gap is not None and worst_gap <= COPY_GAP_US, f"worst +{worst_gap:.2f} us"))
        ratios = []
        for mode in ("decode", "prefill"):
            for rows in sorted({r["rows"] for r in records if r["rows"] >= BANDWIDTH_ROWS}):
                d = t.get((config, kv_dtype, mode, "cold", rows, "dsv4"))
                copy = t.get((config, kv_dtype, "decode", "cold", rows, "copy")) or \
                    t.get((config, kv_dtype, mode, "cold", rows, "copy"))
                if d is not None and copy:
                    ratios.append((d / copy, f"{mode} {rows}"))
        worst = max(ratios) if ratios else None
        out.append((f">= {BANDWIDTH_ROWS} rows <= {COPY_RATIO}x cold copy", name,
                    worst is not None and worst[0] <= COPY_RATIO,
                    f"worst {worst[0]:.2f}x ({worst[1]})" if worst else "not measured"))
    return out


def format_verdicts(entries):
    lines = ["| target | configuration | verdict | detail |", "|---|---|---|---|"]
    lines += [f"| {target} | {name} | {'met' if met else '**missed**'} | {detail} |"
              for target, name, met, detail in entries]
    return "\n".join(lines)


def report(run):
    """The tables (one per configuration and kv dtype) and the verdicts of matrix.py's JSON."""
    records = run["results"]
    parts = [f"#### {config}, {kv_dtype} kv\n\n{table(records, config, kv_dtype)}\n"
             for config, kv_dtype in sorted({(r["config"], r["kv_dtype"]) for r in records},
                                            reverse=True)]
    return "\n".join(parts + [format_verdicts(verdicts(records))])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json")
    args = p.parse_args(argv)
    with open(args.json) as f:
        print(report(json.load(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
