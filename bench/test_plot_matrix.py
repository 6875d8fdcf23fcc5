"""CPU test of plot_matrix.py: the panels it groups a matrix run into, and a rendered PNG."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_matrix  # noqa: E402


def record(config, dtype, impl, mode, cache, rows, us):
    return {"config": config, "kv_dtype": dtype, "impl": impl, "mode": mode, "cache": cache, "rows": rows,
            "graph": None if us is None else {"median_us": us}}


RECORDS = [record("indexer", "f32", "dsv4", "decode", "cold", 64, 2.0),
           record("indexer", "f32", "dsv4", "decode", "cold", 1, 1.5),
           record("indexer", "f32", "copy", "decode", "hot", 1, 1.1),
           record("indexer", "f32", "ref", "decode", "cold", 1, None),  # untimed: left out
           record("main", "bf16", "dsv4", "prefill", "cold", 1024, 3.0)]


def test_panels():
    data = plot_matrix.panels(RECORDS)
    assert sorted(data) == [("indexer", "f32"), ("main", "bf16")]
    assert data[("indexer", "f32")][("dsv4", "decode", "cold")] == [(1, 1.5), (64, 2.0)]
    assert ("ref", "decode", "cold") not in data[("indexer", "f32")]
    assert data[("main", "bf16")] == {("dsv4", "prefill", "cold"): [(1024, 3.0)]}


def test_render():
    with tempfile.TemporaryDirectory() as d:
        src, png = os.path.join(d, "m.json"), os.path.join(d, "m.png")
        with open(src, "w") as f:
            json.dump({"environment": {"device": "test", "date": "today"}, "results": RECORDS}, f)
        assert plot_matrix.main([src, png]) == 0
        with open(png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        with open(src, "w") as f:
            json.dump({"environment": {}, "results": RECORDS[3:4]}, f)
        assert plot_matrix.main([src, png]) == 1


if __name__ == "__main__":
    test_panels()
    test_render()
    print("test_plot_matrix: ok")
