"""CPU test of bench/sglang_peer (no GPU, torch or Triton): sglang's plan structs as plans.py packs
them (sizes, field offsets, what dsv4's adapter reads as int32, the bench's batches), and the
bench's ratios, table and set counts on made-up timings.
Run: python3 bench/test_sglang_peer.py
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_DIR = os.path.join(HERE, "sglang_peer")
sys.path.insert(0, HERE)
sys.path.insert(1, PEER_DIR)
import plans  # noqa: E402

spec = importlib.util.spec_from_file_location("sglang_peer_bench",
                                              os.path.join(PEER_DIR, "bench.py"))
peer_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer_bench)


def test_struct_bytes():
    # DecodePlan: u32 seq_len, i32 write_loc, i32 read_page_0, i32 read_page_1.
    d = plans.pack_decode([(8, 7, 3, -1)])
    assert d == bytes([8, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]), d
    # CompressPlan: u32 seq_len, u16 ragged_id, u16 buffer_len, i32 read_page_0, read_page_1.
    c = plans.pack_compress([(plans.INVALID_SEQ_LEN, 0x1234, 5, -1, 9)])
    assert c == bytes([0xFF] * 4 + [0x34, 0x12, 5, 0] + [0xFF] * 4 + [9, 0, 0, 0]), c
    assert plans.unpack(d, decode=True) == [(8, 7, 3, -1)]
    assert plans.unpack(c, decode=False) == [(plans.INVALID_SEQ_LEN, 0x1234, 5, -1, 9)]
    # What dsv4's adapter reads (int32 [N, 4]): the invalid seq_len is -1, and column 1 is
    # ragged_id | buffer_len << 16 (device/sglang_proof.py builds its plans so).
    assert plans.as_int32(c) == [(-1, 0x1234 | 5 << 16, -1, 9)]
    try:
        plans.unpack(d[:15], decode=True)
    except ValueError:
        pass
    else:
        raise AssertionError("15 bytes unpacked as a plan")


def test_batches():
    for mode in ("decode", "extend"):
        buf = plans.batch(mode, 1000, 4, 4096, seed=3)
        assert len(buf) == 1000 * plans.PLAN_BYTES
        assert buf == plans.batch(mode, 1000, 4, 4096, seed=3)  # a seed replays the batch
        rows = plans.unpack(buf, decode=mode == "decode")
        for i, row in enumerate(rows):
            seq_len = row[0]
            # every row stores: a window end whose rope position lies in the table
            assert seq_len % 4 == 0 and 4 <= seq_len <= 4096, row
            if mode == "decode":
                assert row[1] >= 0 and row[2] >= 0, row  # the state is planned
            else:
                assert row[1] == i, row                  # row m stores at out_loc[m]
        assert len({r[0] for r in rows}) > 100           # positions spread over the table
    assert len(plans.extend_batch(65536, 4, 4096, seed=1)) == 65536 * plans.PLAN_BYTES
    for bad in (lambda: plans.extend_batch(65537, 4, 4096, seed=1),
                lambda: plans.batch("prefill", 1, 4, 4096, seed=1),
                lambda: plans.decode_batch(1, 128, 64, seed=1)):
        try:
            bad()
        except ValueError:
            pass
        else:
            raise AssertionError("a batch sglang's structs cannot hold was built")


def record(layout, mode, rows, impl, us):
    return {"layout": layout, "mode": mode, "rows": rows, "impl": impl, "graph": {"median_us": us}}


def test_ratios_and_table():
    records = [record("indexer", "decode", 1, "dsv4", 3.0),
               record("indexer", "decode", 1, "sglang", 2.0),
               record("indexer", "decode", 1, "sglang-nopdl", 2.5),
               {"layout": "indexer", "mode": "decode", "rows": 1, "impl": "agreement",
                "peer": "sglang", "ok": True, "bytes_differ": 0},
               record("main", "extend", 64, "dsv4", 4.0),
               record("main", "extend", 64, "sglang-nopdl", 8.0),   # the PDL launch failed:
               {"layout": "main", "mode": "extend", "rows": 64, "impl": "sglang", "ok": False,
                "error": "RuntimeError: launch"},                    # no graph, no column
               {"layout": "main", "mode": "extend", "rows": 64, "impl": "agreement",
                "peer": "sglang", "ok": False, "bytes_differ": 12},
               record("main", "decode", 256, "dsv4", 5.0),             # no peer at all
               record("indexer", "extend", 65536, "dsv4", 50.0),
               record("indexer", "extend", 65536, "sglang", 40.0)]
    got = {(r["layout"], r["mode"], r["rows"]): r for r in peer_bench.ratios(records)}
    assert list(got) == [("indexer", "decode", 1), ("indexer", "extend", 65536),
                         ("main", "decode", 256), ("main", "extend", 64)], list(got)
    assert got["indexer", "decode", 1]["peer"] == "sglang"
    assert got["indexer", "decode", 1]["ratio"] == 1.5
    assert got["main", "extend", 64]["peer"] == "sglang-nopdl"
    assert got["main", "extend", 64]["ratio"] == 0.5
    assert got["main", "decode", 256]["ratio"] is None
    assert got["indexer", "extend", 65536]["ratio"] == 1.25
    lines = peer_bench.table(records).splitlines()
    assert lines[0] == ("| layout | mode | rows | dsv4 us | sglang us | sglang-nopdl us "
                        "| dsv4/sglang | cache vs dsv4 |"), lines[0]
    assert lines[2] == "| indexer | decode | 1 | 3.00 | 2.00 | 2.50 | 1.50 | byte-equal |", lines[2]
    assert lines[3] == "| indexer | extend | 65536 | 50.00 | 40.00 | - | 1.25 | - |", lines[3]
    assert lines[4] == "| main | decode | 256 | 5.00 | - | - | - | - |", lines[4]
    assert lines[5] == "| main | extend | 64 | 4.00 | - | 8.00 | 0.50 | 12 B differ (FAIL) |", \
        lines[5]


def test_sets():
    l2 = 60 << 20
    assert peer_bench.num_sets(256, 512, 584 * 64 // 576 * 576 + 576, l2) == 2   # hot
    cold = peer_bench.num_sets(4096, 128, 132 * 64, l2)
    per_set = 4096 * 128 * 4 + 64 * 132 * 64
    assert cold * per_set > 2 * l2 and (cold - 1) * per_set <= 2 * l2, cold
    assert peer_bench.num_sets(65536, 512, 37440, l2) == 2   # one set is larger than the L2


def test_arguments():
    args = peer_bench.parse_args(["--rows", "1,4096", "--layouts", "main", "--modes", "extend"])
    assert (args.rows, args.layouts, args.modes) == ([1, 4096], ["main"], ["extend"])
    assert args.peer_lib is None
    default = peer_bench.parse_args([])
    assert default.rows == list(peer_bench.ROWS) and default.layouts == ["indexer", "main"]


def main():
    tests = [test_struct_bytes, test_batches, test_ratios_and_table, test_sets, test_arguments]
    failed = 0
    for t in tests:
        try:
            t()
            print(f"PASS {t.__name__}")
        except Exception as e:  # noqa: BLE001 - count every failing test
            failed += 1
            print(f"FAIL {t.__name__}: {type(e).__name__}: {e}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
