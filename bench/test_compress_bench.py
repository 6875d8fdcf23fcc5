"""CPU test of compress_bench.py (no GPU, torch or Triton): issue 20's verdicts and the table on
made-up timings, the invariants of compress_workload.py's batches (every window's blocks exist,
distinct and scattered; every producing item a distinct slot; sets disjoint; enough sets to leave
the L2), and compress_check.py's code steps and agreement rule.
Run: python3 bench/test_compress_bench.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compress_bench  # noqa: E402
import compress_check  # noqa: E402
import compress_workload as cw  # noqa: E402


def record(config, mode, tokens, impl, us, bytes_=1e6):
    return {"config": config, "mode": mode, "tokens": tokens, "impl": impl, "bytes": bytes_,
            "graph": {"median_us": us}}


def test_verdicts():
    records = [record("indexer", "decode", 1, "dsv4", 3.0),
               record("indexer", "decode", 1, "triton", 4.0),
               record("indexer", "decode", 1, "chain", 6.0),
               record("main_r4", "decode", 64, "dsv4", 4.0),
               record("main_r4", "decode", 64, "triton", 5.0),
               # the chain failed its check, so it has no timing: missed, not skipped
               record("main_r128", "decode", 1, "dsv4", 5.5),
               record("main_r128", "decode", 1, "floor", 2.0),
               record("main_r128", "decode", 256, "dsv4", 120.0),
               record("main_r128", "decode", 256, "floor", 100.0),
               record("main_r128", "decode", 16, "dsv4", 9.0),  # no target at 16 tokens
               record("indexer", "prefill", 8192, "dsv4", 10.9),
               record("indexer", "prefill", 8192, "floor", 10.0),
               record("main_r4", "prefill", 65536, "dsv4", 250.0),
               record("main_r4", "prefill", 65536, "floor", 200.0),
               # no dsv4 timing: no verdict at all
               record("main_r128", "prefill", 8192, "floor", 30.0),
               # held to the FP8 kernel of the same batch, another configuration's dsv4 column
               record("indexer_mxfp4", "decode", 1, "dsv4", 3.03),
               record("indexer_mxfp4", "decode", 16, "dsv4", 2.0),
               record("indexer", "decode", 16, "dsv4", 2.0),
               record("indexer_mxfp4", "decode", 64, "dsv4", 2.0)]
    lines = dict(compress_bench.verdicts(records))
    expected = {
        "indexer decode 1 tokens: dsv4 3.00 us = 0.75x triton (target <= 0.75x)": True,
        "indexer decode 1 tokens: dsv4 3.00 us = 0.50x chain (target <= 0.6x)": True,
        "main_r4 decode 64 tokens: dsv4 4.00 us = 0.80x triton (target <= 0.75x)": False,
        "main_r4 decode 64 tokens: dsv4 4.00 us, no chain timing (target <= 0.6x chain)": False,
        "main_r128 decode 1 tokens: dsv4 5.50 us (target <= 5.0 us)": False,
        "main_r128 decode 256 tokens: dsv4 120.00 us = 1.20x floor (target <= 1.3x)": True,
        "indexer prefill 8192 tokens: dsv4 10.90 us = 1.09x floor (target <= 1.1x)": True,
        "main_r4 prefill 65536 tokens: dsv4 250.00 us = 1.25x floor (target <= 1.1x)": False,
        "indexer_mxfp4 decode 1 tokens: dsv4 3.03 us = 1.01x indexer:dsv4 (target <= 1.0x)": False,
        "indexer decode 16 tokens: dsv4 2.00 us, no triton timing (target <= 0.75x triton)": False,
        "indexer decode 16 tokens: dsv4 2.00 us, no chain timing (target <= 0.6x chain)": False,
        "indexer_mxfp4 decode 16 tokens: dsv4 2.00 us = 1.00x indexer:dsv4 (target <= 1.0x)": True,
        "indexer_mxfp4 decode 64 tokens: dsv4 2.00 us, no indexer:dsv4 timing "
        "(target <= 1.0x indexer:dsv4)": False,
    }
    assert lines == expected, sorted(set(lines.items()) ^ set(expected.items()))


def test_table():
    records = [record("main_r4", "prefill", 8192, "dsv4", 22.0, 2e8),
               record("main_r4", "prefill", 8192, "floor", 20.0, 2e8),
               record("indexer", "decode", 1, "triton", 4.0, 8324),
               {"config": "indexer", "mode": "decode", "tokens": 1, "impl": "agreement",
                "peer": "triton", "ok": True}]
    lines = compress_bench.table(records).split("\n")
    assert lines[0] == ("| config | mode | tokens | dsv4 | triton | triton-split | chain | floor "
                        "| dsv4/floor | floor GB/s |"), lines[0]
    assert lines[2:] == [
        "| indexer | decode | 1 | - | 4.00 | - | - | - | - | - |",
        "| main_r4 | prefill | 8192 | 22.00 | - | - | - | 20.00 | 1.10 | 10000 |"], lines


def check_batch(batch):
    """The invariants the bench relies on, computed here from the batch's own lists."""
    config, ratio = batch.config, batch.config["ratio"]
    comp = cw.compressor(config)
    n = batch.sets * batch.items
    assert len(batch.token_req) == len(batch.positions) == len(batch.out_loc) == n
    assert len(batch.block_table) == batch.sets * batch.requests
    width = cw.CONTEXT_MAX // cw.STATE_BLOCK_SIZE
    assert all(len(row) == width for row in batch.block_table)
    block_of = {}
    producing_all = []
    for s, per_set in enumerate(batch.producing):
        items = range(s * batch.items, (s + 1) * batch.items)
        # Exactly the window-end tokens produce, the same number in every set.
        assert per_set == [k for k in items if (batch.positions[k] + 1) % ratio == 0]
        assert len(per_set) == len(batch.producing[0])
        for k in items:
            # A set's items name only its own requests.
            assert s * batch.requests <= batch.token_req[k] < (s + 1) * batch.requests
            assert 0 <= batch.positions[k] < cw.CONTEXT_MAX
        for k in per_set:
            assert 0 <= batch.positions[k] + 1 - ratio < cw.NUM_POSITIONS
            row = batch.block_table[batch.token_req[k]]
            for q in comp.window(batch.positions[k]):
                if q < 0:
                    continue
                column = q // cw.STATE_BLOCK_SIZE
                assert column < width
                block_of[(batch.token_req[k], column)] = row[column]
        producing_all += per_set
    # Every block a window reads exists and belongs to one (request, column): no two windows
    # of different requests share state bytes, and the state holds nothing else.
    blocks = sorted(block_of.values())
    assert blocks == list(range(batch.num_blocks)), "read blocks are exactly the state's, once each"
    # A distinct slot per producing item, inside whole pages; the others store nothing.
    slots = [batch.out_loc[k] for k in producing_all]
    assert len(set(slots)) == len(slots) and all(0 <= x < batch.num_slots for x in slots)
    assert batch.num_slots % cw.PAGE_SIZE == 0 and batch.num_slots - len(slots) < cw.PAGE_SIZE
    producing = set(producing_all)
    assert all(batch.out_loc[k] == -1 for k in range(n) if k not in producing)
    return block_of


def test_decode_batches():
    for name, config in cw.CONFIGS.items():
        batch = cw.decode_batch(config, 16, 5, seed=7)
        block_of = check_batch(batch)
        assert batch.requests == batch.items == 16
        # One token a request, every one at the end of a 1k-8k context: all produce, windows full.
        assert len(set(batch.token_req)) == len(batch.token_req)
        assert all(len(p) == 16 for p in batch.producing)
        assert all(cw.CONTEXT_MIN <= p + 1 <= cw.CONTEXT_MAX for p in batch.positions)
        assert batch.bytes_per_call == cw.set_bytes(config, "decode", 16), name
        # Scattered: the blocks in order of first use are not the state in order.
        order = [block_of[key] for key in sorted(block_of)]
        assert order != sorted(order), name


def test_prefill_batches():
    for name, config in cw.CONFIGS.items():
        tokens = 2 * cw.CHUNK
        batch = cw.prefill_batch(config, tokens, 3, seed=11)
        check_batch(batch)
        assert batch.requests == tokens // cw.CHUNK and batch.items == tokens
        assert all(len(p) == tokens // config["ratio"] for p in batch.producing)
        # Chunks of CHUNK consecutive positions starting at a multiple of CHUNK.
        for start in range(0, len(batch.positions), cw.CHUNK):
            chunk = batch.positions[start:start + cw.CHUNK]
            assert chunk[0] % cw.CHUNK == 0
            assert chunk == list(range(chunk[0], chunk[0] + cw.CHUNK))
            assert len(set(batch.token_req[start:start + cw.CHUNK])) == 1
        # A chunk at position 0 has absent rows in its first overlapping window: never more bytes
        # than full windows.
        full = cw.set_bytes(config, "prefill", tokens)
        assert 0.99 * full <= batch.bytes_per_call <= full, name


def test_sets():
    l2 = 60 * 2**20
    indexer = cw.CONFIGS["indexer"]
    per_set = cw.set_bytes(indexer, "decode", 1)
    assert per_set == 8 * 2 * 128 * 4 + 132
    sets = cw.num_sets(per_set, l2, compress_bench.MAX_SETS)
    assert sets * per_set > 2 * l2 and (sets - 1) * per_set <= 2 * l2
    assert cw.num_sets(per_set, l2, 64) == 64
    assert cw.num_sets(10**12, l2, 64) == 2


def test_steps():
    order = compress_check.fp8_order
    assert [order(c) for c in (0x00, 0x80, 0x01, 0x81, 0x7E, 0xFE)] == [0, 0, 1, -1, 126, -126]
    apart = compress_check.steps_apart
    assert apart(0x01, 0x81, order) == 2 and apart(0x80, 0x01, order) == 1
    assert apart(0x45, 0x46, order) == 1 and apart(0xC5, 0xC7, order) == 2
    bf16 = compress_check.bf16_order
    assert bf16(0x3F80) == 0x3F80 and bf16(0xBF80) == -0x3F80 and bf16(0x8000) == 0
    assert apart(0x3F80, 0x3F81, bf16) == 1 and apart(0x0001, 0x8001, bf16) == 2
    e2m1 = compress_check.e2m1_order
    assert [e2m1(c) for c in (0x0, 0x8, 0x1, 0x9, 0x7, 0xF)] == [0, 0, 1, -1, 7, -7]
    assert apart(0x1, 0x9, e2m1) == 2 and apart(0x8, 0x1, e2m1) == 1


def test_agreement_rule():
    good = {"slots": 2000, "unwritten": 0, "outside_differ": 0, "codes_far": 0, "scale_differ": 2}
    assert compress_check.agreement_ok(good)
    for field, value in (("unwritten", 1), ("outside_differ", 1), ("codes_far", 1),
                         ("scale_differ", 3), ("slots", 0)):
        assert not compress_check.agreement_ok(dict(good, **{field: value})), field


if __name__ == "__main__":
    test_verdicts()
    test_table()
    test_decode_batches()
    test_prefill_batches()
    test_sets()
    test_steps()
    test_agreement_rule()
    print("test_compress_bench: ok")
