"""Where a kernel's warps wait: the SASS lines with the most stall samples, from the source page of
an Nsight Compute report (`ncu -i REPORT --page source --csv --print-source sass`), and the stall
reasons summed over the kernel.

Run: python3 bench/ncu_stalls.py SOURCE.csv [--top N]
"""
import argparse
import csv
import sys

SAMPLES = "Warp Stall Sampling (All Samples)"


def read(path):
    """The rows of the per-instruction table: ncu prints a kernel-name line and notes before the
    header, so the table starts at the first line naming the samples column."""
    with open(path, newline="") as f:
        lines = f.readlines()
    start = next((i for i, line in enumerate(lines) if SAMPLES in line), None)
    if start is None:
        print("".join(lines[:3]))
        return []
    return list(csv.DictReader(lines[start:]))


def number(text):
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        return 0.0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv")
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args(argv)
    rows = read(args.csv)
    if not rows or SAMPLES not in rows[0]:
        print(f"no '{SAMPLES}' column in {args.csv}; columns: {list(rows[0]) if rows else []}")
        return 1
    total = sum(number(r[SAMPLES]) for r in rows) or 1.0
    source = next((c for c in ("Source", "# Address") if c in rows[0]), None)
    print(f"{int(total)} stall samples over {len(rows)} SASS instructions; top {args.top}:")
    for r in sorted(rows, key=lambda r: -number(r[SAMPLES]))[:args.top]:
        print(f"  {100 * number(r[SAMPLES]) / total:5.1f}%  {r.get('Address', '')}  {r.get(source, '')}")
    # Per-reason columns, where this ncu version lists them ("stall_*" or "... Stall ...").
    reasons = [c for c in rows[0] if c.lower().startswith("stall_") or
               ("stall" in c.lower() and "sampling" not in c.lower())]
    sums = sorted(((sum(number(r[c]) for r in rows), c) for c in reasons), reverse=True)
    if sums:
        print("by reason: " + ", ".join(f"{c} {int(s)}" for s, c in sums[:8] if s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
