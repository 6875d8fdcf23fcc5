#!/usr/bin/python3
"""Plot of a production-matrix run (matrix.py's JSON): µs per call against rows, log-log, one panel
per configuration and kv dtype; a line per implementation and cache state (cold solid, hot dashed),
prefill points as markers. Needs Debian's python3-matplotlib.

Run: /usr/bin/python3 bench/plot_matrix.py matrix.json plot.png
"""
import argparse
import json
import sys

STYLE = {"dsv4": "tab:red", "ref": "tab:blue", "copy": "tab:gray", "floor": "tab:green"}
CACHE_LINE = {"cold": "-", "hot": "--"}


def panels(records):
    """{(config, kv dtype): {(impl, mode, cache): [(rows, median µs)] sorted by rows}} of the
    records that were timed."""
    out = {}
    for r in records:
        if not r.get("graph"):
            continue
        series = out.setdefault((r["config"], r["kv_dtype"]), {})
        series.setdefault((r["impl"], r["mode"], r["cache"]), []).append((r["rows"], r["graph"]["median_us"]))
    for series in out.values():
        for points in series.values():
            points.sort()
    return out


def plot(data, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted(data)
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for (impl, mode, cache), points in sorted(data[key].items()):
            xs, ys = zip(*points)
            if mode == "decode":
                ax.plot(xs, ys, CACHE_LINE[cache], color=STYLE.get(impl), label=f"{impl} {cache}")
            else:
                ax.plot(xs, ys, "o" if cache == "cold" else "x", color=STYLE.get(impl),
                        label=f"{impl} prefill {cache}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{key[0]} {key[1]} kv")
        ax.set_xlabel("rows")
        ax.set_ylabel("µs per call (CUDA graph, median)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json", help="matrix.py's output")
    p.add_argument("png", help="where to write the plot")
    args = p.parse_args(argv)
    with open(args.json) as f:
        run = json.load(f)
    env = run["environment"]
    data = panels(run["results"])
    if not data:
        print(f"no timed result in {args.json}", file=sys.stderr)
        return 1
    plot(data, f"dsv4 production matrix, {env['device']}, {env['date']}", args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
