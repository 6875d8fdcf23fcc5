"""CPU test of matrix_report.py: its tables and the target verdicts on a made-up run."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix_report  # noqa: E402


def rec(impl, rows, us, cache="cold", mode="decode", config="main", dtype="f32"):
    return {"config": config, "kv_dtype": dtype, "mode": mode, "cache": cache, "rows": rows, "impl": impl,
            "graph": {"median_us": us}}


def run(dsv4_small, dsv4_large, ref=1.5):
    records = []
    for cache in ("hot", "cold"):
        for rows in matrix_report.DECODE_ROWS:
            records += [rec("dsv4", rows, dsv4_small, cache), rec("ref", rows, ref, cache),
                        rec("copy", rows, 1.2, cache), rec("floor", rows, 1.4, cache)]
    records += [rec("dsv4", 65536, dsv4_large), rec("copy", 65536, 10.0), rec("ref", 65536, 30.0),
                rec("dsv4", 65536, dsv4_large * 1.04, mode="prefill"), rec("copy", 65536, 10.0, mode="prefill")]
    return records


def verdicts(*args, **kwargs):
    return [ok for _, _, ok, _ in matrix_report.verdicts(run(*args, **kwargs))]


def test_verdicts():
    assert verdicts(1.5, 11.0) == [True, True, True]
    missed = matrix_report.verdicts(run(1.7, 12.0))
    assert [ok for _, _, ok, _ in missed] == [False, False, False]
    assert missed[0][3] == "worst 1.13x" and missed[1][3] == "worst +0.50 us"
    assert missed[2][1] == "main f32" and missed[2][3] == "worst 1.25x (prefill 65536)"
    # Under the reference but 0.45 us above the copy; and the other way round.
    assert verdicts(1.65, 11.0, ref=1.7) == [True, False, True]
    assert verdicts(1.55, 11.0) == [False, True, True]


def test_table():
    lines = matrix_report.table(run(1.5, 11.0), "main", "f32").splitlines()
    assert lines[0].startswith("| mode | rows | cache | dsv4 | ref | copy | floor |")
    assert "| decode | 1 | hot | 1.50 | 1.50 | 1.20 | 1.40 | 1.00× | 0.30 |" in lines
    assert lines[-1] == "| prefill | 65536 | cold | 11.44 | - | 10.00 | - | - | 1.44 |"


if __name__ == "__main__":
    test_verdicts()
    test_table()
    print("test_matrix_report: ok")
