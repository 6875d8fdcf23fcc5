"""CPU test of the bench's tables and targets on made-up records. Run: python3 bench/test_report.py"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402


def record(impl, rows, graph_us, event_us=None, kv_dtype="f32"):
    timed = lambda us: None if us is None else {"median_us": us, "min_us": us, "max_us": us, "n": 1}  # noqa: E731
    return {"impl": impl, "kv_dtype": kv_dtype, "rows": rows, "bytes": rows * 512 * 4 * 2,
            "graph": timed(graph_us), "event": timed(event_us if event_us is not None else graph_us), "error": None}


def records():
    out = []
    for rows, dsv4, ref4, ref8, copy in ((1, 1.5, 2.3, 2.4, 1.4), (8, 1.6, 2.4, 2.5, 1.4), (64, 1.8, 2.5, 2.6, 1.5),
                                         (8192, 15.0, 49.8, 45.0, 13.3), (65536, 100.0, 372.0, 380.0, 90.7)):
        out += [record("dsv4", rows, dsv4), record("ref-nw4", rows, ref4), record("ref-nw8", rows, ref8),
                record("copy", rows, copy)]
    out.append(record("unf-regs", 1, None))  # measured nowhere: shows as "-"
    return out


def test_table():
    text = report.table(records(), "f32", "graph")
    lines = text.splitlines()
    assert "CUDA graph" in lines[0] and lines[1].split("|")[1].split() == ["dsv4", "ref-nw4", "ref-nw8", "copy",
                                                                          "unf-regs"]
    row = {int(line.split("|")[0]): line for line in lines[2:]}
    assert sorted(row) == [1, 8, 64, 8192, 65536]
    # 8192 rows: dsv4/best ref = 15/45, dsv4/copy = 15/13.3, bandwidth 8192*512*8 B / 15 us.
    cells = row[8192].split("|")[2].split()
    assert cells == ["0.33x", "1.13x", f"{8192 * 512 * 8 / 15.0 / 1e6:.2f}"], cells
    assert row[1].split("|")[1].split()[-1] == "-"
    assert report.table(records(), "bf16", "graph") == ""


def test_targets():
    goals = {(g["target"]): g for g in report.targets(records(), "f32")}
    assert goals["65536 rows <= 1.2x copy"]["met"] and abs(goals["65536 rows <= 1.2x copy"]["value"] - 100 / 90.7) < 1e-9
    assert not goals["1-64 rows <= 1.7 us"]["met"] and goals["1-64 rows <= 1.7 us"]["value"] == 1.8
    assert goals["8192 rows <= 1.3x copy"]["met"]
    # A missing size cannot meet its target.
    partial = [r for r in records() if r["rows"] != 65536]
    assert not {g["target"]: g for g in report.targets(partial, "f32")}["65536 rows <= 1.2x copy"]["met"]
    text = report.format_targets(report.targets(records(), "f32"))
    assert text.count("MET") == 2 and text.count("MISSED") == 1, text


if __name__ == "__main__":
    test_table()
    test_targets()
    print("test_report: ok")
