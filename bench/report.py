"""Bench tables and targets from result records (pure Python, no GPU: see test_report.py).

A record is {"impl", "kv_dtype", "rows", "bytes", "event": {"median_us", ...} | None,
"graph": {...} | None, "error": str | None}.
"""

COPY = "copy"
REFERENCES = ("ref-nw4", "ref-nw8")
# (rows, largest allowed dsv4/copy ratio) and (row counts, largest allowed µs), both graph-timed.
COPY_RATIO_TARGETS = ((65536, 1.2), (8192, 1.3))
SMALL_ROWS, SMALL_LIMIT_US = (1, 8, 64), 1.7


def is_dsv4(impl):
    return impl.startswith("dsv4")


def _median(records, impl, kv_dtype, rows, mode):
    for r in records:
        if r["impl"] == impl and r["kv_dtype"] == kv_dtype and r["rows"] == rows and r.get(mode):
            return r[mode]["median_us"]
    return None


def _impls(records, kv_dtype):
    """Implementations measured for a dtype, in first-seen order."""
    seen = []
    for r in records:
        if r["kv_dtype"] == kv_dtype and r["impl"] not in seen:
            seen.append(r["impl"])
    return seen


def _best_reference(records, kv_dtype, rows, mode):
    times = [t for t in (_median(records, ref, kv_dtype, rows, mode) for ref in REFERENCES) if t is not None]
    return min(times) if times else None


def _fmt(value, spec, width):
    return f"{value:{width}{spec}}" if value is not None else f"{'-':>{width}}"


def table(records, kv_dtype, mode):
    """One table: rows x implementations, microseconds per call (median), then the ratios of the
    first dsv4 kernel to the best Triton reference and to the copy, and its bandwidth."""
    impls = _impls(records, kv_dtype)
    if not impls:
        return ""
    dsv4 = next((i for i in impls if is_dsv4(i)), None)
    title = {"graph": "CUDA graph replay", "event": "event-timed launches"}[mode]
    widths = [max(9, len(i) + 1) for i in impls]
    lines = [f"{kv_dtype} kv, D=512 R=64 decode: us per call, {title} (median)",
             f"{'rows':>6} |" + "".join(f"{i:>{w}}" for i, w in zip(impls, widths))
             + f" | {'dsv4/ref':>9}{'dsv4/copy':>10}{'dsv4 TB/s':>10}"]
    for rows in sorted({r["rows"] for r in records if r["kv_dtype"] == kv_dtype}):
        cells = [_fmt(_median(records, i, kv_dtype, rows, mode), ".2f", w) for i, w in zip(impls, widths)]
        mine = _median(records, dsv4, kv_dtype, rows, mode) if dsv4 else None
        ref, copy = _best_reference(records, kv_dtype, rows, mode), _median(records, COPY, kv_dtype, rows, mode)
        moved = next((r["bytes"] for r in records if r["kv_dtype"] == kv_dtype and r["rows"] == rows), 0)
        lines.append(f"{rows:>6} |" + "".join(cells)
                     + f" | {_fmt(_ratio(mine, ref), '.2f', 8)}x{_fmt(_ratio(mine, copy), '.2f', 9)}x"
                     + _fmt(moved / mine / 1e6 if mine else None, ".2f", 10))
    return "\n".join(lines)


def _ratio(a, b):
    return a / b if a is not None and b else None


def targets(records, kv_dtype):
    """The project's speed targets for every dsv4 kernel of this dtype, graph-timed."""
    out = []
    for impl in (i for i in _impls(records, kv_dtype) if is_dsv4(i)):
        for rows, limit in COPY_RATIO_TARGETS:
            mine = _median(records, impl, kv_dtype, rows, "graph")
            copy = _median(records, COPY, kv_dtype, rows, "graph")
            ratio = _ratio(mine, copy)
            out.append({"impl": impl, "kv_dtype": kv_dtype, "target": f"{rows} rows <= {limit}x copy",
                        "value": ratio, "met": ratio is not None and ratio <= limit,
                        "detail": f"{_fmt(mine, '.1f', 0)} us vs copy {_fmt(copy, '.1f', 0)} us"})
        small = {rows: _median(records, impl, kv_dtype, rows, "graph") for rows in SMALL_ROWS}
        worst = max(small.values()) if None not in small.values() else None
        out.append({"impl": impl, "kv_dtype": kv_dtype,
                    "target": f"{SMALL_ROWS[0]}-{SMALL_ROWS[-1]} rows <= {SMALL_LIMIT_US} us",
                    "value": worst, "met": worst is not None and worst <= SMALL_LIMIT_US,
                    "detail": ", ".join(f"{rows}: {_fmt(t, '.2f', 0)}" for rows, t in small.items())})
    return out


def format_targets(entries):
    lines = []
    for e in entries:
        value = "-" if e["value"] is None else f"{e['value']:.2f}"
        lines.append(f"  {e['impl']} {e['kv_dtype']}: {e['target']:<22} {value:>6}  "
                     f"{'MET' if e['met'] else 'MISSED'}  ({e['detail']})")
    return "\n".join(lines)
