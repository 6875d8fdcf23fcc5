"""CPU test of store_bench.py's verdicts and of write_benchmarks.py's table of its run on made-up timings: the FP8 layouts against the
reference, the chain and the floor (issue 11); the MXFP4 indexer at decode against the FP8
indexer's kernel of the same rows and mode, and at 65536 rows against its own floor (issue 21).
Run: python3 bench/test_store_bench.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import store_bench  # noqa: E402
import write_benchmarks  # noqa: E402


def record(layout, rows, impl, us):
    return {"layout": layout, "rows": rows, "impl": impl, "graph": {"median_us": us}}


def test_verdicts():
    records = [record("indexer", 1, "dsv4", 2.0), record("indexer", 1, "ref", 2.5),
               record("indexer", 1, "chain", 4.0), record("indexer", 64, "dsv4", 2.0),
               record("indexer", 64, "ref", 2.5), record("indexer", 64, "chain", 4.0),
               record("indexer", 65536, "dsv4", 20.0),
               record("indexer", 65536, "dsv4-prefill", 15.0),
               record("indexer", 65536, "floor", 14.0),
               record("indexer_mxfp4", 1, "dsv4", 1.9), record("indexer_mxfp4", 64, "dsv4", 2.1),
               record("indexer_mxfp4", 65536, "dsv4", 12.0),
               record("indexer_mxfp4", 65536, "dsv4-prefill", 9.0),
               record("indexer_mxfp4", 65536, "floor", 10.0),
               # No FP8 kernel of these rows: no verdict rather than a made-up one.
               record("indexer_mxfp4", 16, "dsv4", 2.0)]
    lines = dict(store_bench.verdicts(records))
    expected = {
        "indexer 1 rows: dsv4 2.00 us = 0.80x ref (target <= 1.0x)": True,
        "indexer 1 rows: dsv4 2.00 us = 0.50x chain (target <= 0.6x)": True,
        "indexer 64 rows: dsv4 2.00 us = 0.80x ref (target <= 1.0x)": True,
        "indexer 64 rows: dsv4 2.00 us = 0.50x chain (target <= 0.6x)": True,
        "indexer 65536 rows: dsv4 20.00 us = 1.43x floor (target <= 1.3x)": False,
        "indexer 65536 rows: dsv4-prefill 15.00 us = 1.07x floor (target <= 1.3x)": True,
        "indexer_mxfp4 1 rows: dsv4 1.90 us = 0.95x indexer's dsv4 (target <= 1.0x)": True,
        "indexer_mxfp4 64 rows: dsv4 2.10 us = 1.05x indexer's dsv4 (target <= 1.0x)": False,
        "indexer_mxfp4 65536 rows: dsv4 12.00 us = 1.20x floor (target <= 1.1x)": False,
        "indexer_mxfp4 65536 rows: dsv4-prefill 9.00 us = 0.90x floor (target <= 1.1x)": True,
    }
    assert lines == expected, sorted(set(lines.items()) ^ set(expected.items()))


def test_table():
    """write_benchmarks.py's store-bench section of a run: one line per layout and rows, '-'
    where an implementation was not timed, and the verdicts."""
    run = {"environment": {"device": "GPU", "date": "D", "seed": 1, "torch": "t", "triton": "x"},
           "results": [dict(record("indexer_mxfp4", 1, "dsv4", 1.5), cache="hot"),
                       dict(record("indexer_mxfp4", 1, "floor", 1.25), cache="hot"),
                       {"layout": "indexer_mxfp4", "rows": 1, "cache": "hot",
                        "impl": "agreement", "ok": True}],
           "verdicts": [{"text": "a", "met": True}, {"text": "b", "met": False}]}
    lines = write_benchmarks.store_bench_table(run).split("\n")
    assert lines[4:] == ["| indexer_mxfp4 (68 B) | 1 | hot | 1.50 | - | - | - | 1.25 |", "",
                         "- met: a", "- **missed**: b"], lines


if __name__ == "__main__":
    test_table()
    test_verdicts()
    print("test_store_bench: ok")
