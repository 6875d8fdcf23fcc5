"""Inputs of the compress bench (compress_bench.py): batches of tokens over a paged state cache.

The batch is built in plain Python (test_compress_bench.py holds its invariants without a GPU);
CompressWorkload turns it into tensors. A batch is `sets` independent sets of requests, one set
per call: rotating over sets whose windows are more than twice the L2 keeps every call cold.

  decode   `tokens` requests a set, one token each at the end of a context of 1k-8k tokens
           (a multiple of the ratio, so that every token finishes a window)
  prefill  `tokens` tokens a set, in chunks of CHUNK tokens a request, each chunk at a random
           multiple of CHUNK in [0, CONTEXT_MAX): every token is an item, one in `ratio` produces
The state holds only the blocks that some window reads, one block per (request, column),
handed out shuffled, so that a window's blocks lie scattered over the whole state; a table
column no window reads names block UNREAD_BLOCK (valid, never read).
"""
import dataclasses
import math
import random

import checkout_paths  # noqa: F401 - python/ and device/ on sys.path
from dsv4_reference.compress_model import Compressor
from dsv4_reference.store_model import Layout

STATE_BLOCK_SIZE = 64
PAGE_SIZE = 64
CONTEXT_MIN, CONTEXT_MAX = 1024, 8192
CHUNK = 2048
NUM_POSITIONS = CONTEXT_MAX  # RoPE rows: every rope position p + 1 - ratio lies below
UNREAD_BLOCK = 0
PATTERN = 0x5A  # every cache byte before a call: a slot left unwritten keeps it
DEVICE = "cuda"

# SPEC.md "Where DeepSeek-V4 runs it" with the compress step in front (overlap where ratio 4).
CONFIGS = {
    "indexer": dict(layout="indexer", head_dim=128, rope_dim=64, ratio=4, overlap=True,
                    rotate=True),
    # The MXFP4 indexer cache (issue 21): dsv4's kernel against the FP8 one above, the chain
    # and the floor (the Triton peers write the FP8 layout only: their check fails, untimed).
    "indexer_mxfp4": dict(layout="indexer_mxfp4", head_dim=128, rope_dim=64, ratio=4,
                          overlap=True, rotate=True),
    "main_r4": dict(layout="main", head_dim=512, rope_dim=64, ratio=4, overlap=True,
                    rotate=False),
    "main_r128": dict(layout="main", head_dim=512, rope_dim=64, ratio=128, overlap=False,
                      rotate=False),
}


def compressor(config):
    return Compressor(config["ratio"], config["overlap"], config["head_dim"])


def token_bytes(config):
    layout = Layout(config["layout"], PAGE_SIZE)
    return layout.row_bytes + layout.scale_bytes


def window_bytes(config, rows):
    """State bytes a compress kernel reads for a window of `rows` present rows: kv and score of D
    channels each (under overlap, half of each 4D row)."""
    return rows * 2 * config["head_dim"] * 4


def set_bytes(config, mode, tokens):
    """Bytes one call must move (every window full): the producing tokens' windows read, their
    cache bytes written."""
    producing = tokens if mode == "decode" else tokens // config["ratio"]
    window = compressor(config).coff * config["ratio"]
    return producing * (window_bytes(config, window) + token_bytes(config))


def num_sets(per_set, l2_bytes, cap):
    """Sets rotated so that one pass moves more than twice the L2 (at least two, at most cap)."""
    return max(2, min(cap, math.ceil(2 * l2_bytes / per_set)))


@dataclasses.dataclass
class Batch:
    """`sets` sets of `items` items each (item k of set s is flat item s * items + k) over
    `requests` requests a set (request r of set s is table row s * requests + r)."""
    mode: str
    config: dict
    sets: int
    items: int
    requests: int
    token_req: list      # [sets * items] table row of each item
    positions: list      # [sets * items]
    out_loc: list        # [sets * items] a distinct slot per producing item, else -1
    producing: list      # [sets][producing a set] flat indices of the items that produce a row
    block_table: list    # [sets * requests][max_blocks]
    num_blocks: int      # blocks of the state: one per (request, column) some window reads
    num_slots: int       # tokens of the cache (whole pages)

    def window(self, k):
        """Positions of item k's window that are present (q >= 0)."""
        comp = compressor(self.config)
        return [q for q in comp.window(self.positions[k]) if q >= 0]

    @property
    def bytes_per_call(self):
        """Mean over sets of the bytes a call must move (windows of present rows read, tokens
        written)."""
        total = sum(window_bytes(self.config, len(self.window(k))) + token_bytes(self.config)
                    for per_set in self.producing for k in per_set)
        return total / self.sets


def decode_batch(config, tokens, sets, seed):
    rng = random.Random(seed)
    ratio = config["ratio"]
    items = []
    for s in range(sets):
        for b in range(tokens):
            context = rng.randrange(CONTEXT_MIN // ratio, CONTEXT_MAX // ratio + 1) * ratio
            items.append((s * tokens + b, context - 1))
    return _batch("decode", config, sets, tokens, tokens, items, rng)


def prefill_batch(config, tokens, sets, seed):
    assert tokens % CHUNK == 0, f"prefill tokens come in chunks of {CHUNK}"
    rng = random.Random(seed)
    requests = tokens // CHUNK
    items = []
    for s in range(sets):
        for k in range(requests):
            start = rng.randrange(CONTEXT_MAX // CHUNK) * CHUNK
            items += [(s * requests + k, start + j) for j in range(CHUNK)]
    return _batch("prefill", config, sets, tokens, requests, items, rng)


def _batch(mode, config, sets, per_set, requests, items, rng):
    ratio = config["ratio"]
    comp = compressor(config)
    token_req = [r for r, _ in items]
    positions = [p for _, p in items]
    producing = [[s * per_set + k for k in range(per_set)
                  if (positions[s * per_set + k] + 1) % ratio == 0] for s in range(sets)]
    columns = {}  # (table row, column) -> block, in order of first use
    for per_set_items in producing:
        for k in per_set_items:
            for q in comp.window(positions[k]):
                if q >= 0:
                    columns.setdefault((token_req[k], q // STATE_BLOCK_SIZE), None)
    blocks = list(range(len(columns)))
    rng.shuffle(blocks)
    table = [[UNREAD_BLOCK] * (CONTEXT_MAX // STATE_BLOCK_SIZE) for _ in range(sets * requests)]
    for (row, column), block in zip(columns, blocks):
        table[row][column] = block
    count = sum(len(p) for p in producing)
    num_slots = -(-count // PAGE_SIZE) * PAGE_SIZE
    slots = list(range(num_slots))
    rng.shuffle(slots)
    out_loc = [-1] * len(items)
    for slot, k in zip(slots, (k for per_set_items in producing for k in per_set_items)):
        out_loc[k] = slot
    return Batch(mode, config, sets, per_set, requests, token_req, positions, out_loc, producing,
                 table, len(blocks), num_slots)


class CompressWorkload:
    """A batch's tensors on the GPU: the state [num_blocks, 64, 2W] of random f32 (kv and score
    both N(0, 1), so every softmax weight matters), the block table, the item arrays, weight and
    freqs, one cache of PATTERN bytes for every set (slots are distinct), and the chain's and the
    split's scratch (rows [items, D], plan [items, 4], seq_lens [items]), shared by the sets as a
    framework's scratch is shared by its calls."""

    def __init__(self, batch, seed):
        import torch
        from dsv4_reference import epilogue_torch

        config = batch.config
        d, width = config["head_dim"], compressor(config).width
        gen = torch.Generator(device=DEVICE).manual_seed(seed)
        self.batch, self.config, self.sets, self.items = batch, config, batch.sets, batch.items
        self.layout = Layout(config["layout"], PAGE_SIZE)
        self.state = torch.randn(batch.num_blocks, STATE_BLOCK_SIZE, 2 * width, device=DEVICE,
                                 generator=gen)
        self.block_table = torch.tensor(batch.block_table, dtype=torch.int32, device=DEVICE)
        self.token_req = torch.tensor(batch.token_req, dtype=torch.int32, device=DEVICE)
        self.positions = torch.tensor(batch.positions, dtype=torch.int64, device=DEVICE)
        self.out_loc = torch.tensor(batch.out_loc, dtype=torch.int64, device=DEVICE)
        self.producing = torch.tensor([k for p in batch.producing for k in p], dtype=torch.int32,
                                      device=DEVICE)
        self.producing_per_set = len(batch.producing[0])
        self.weight = 0.5 + torch.rand(d, device=DEVICE, generator=gen)
        self.freqs = epilogue_torch.random_freqs(NUM_POSITIONS, config["rope_dim"],
                                            torch.Generator().manual_seed(seed), DEVICE)
        self.cache = torch.full((batch.num_slots // PAGE_SIZE * self.layout.page_bytes,),
                                PATTERN, dtype=torch.uint8, device=DEVICE)
        self.rows = torch.empty(batch.items, d, device=DEVICE)
        self.plan = torch.empty(batch.items, 4, dtype=torch.int32, device=DEVICE)
        self.seq_lens = torch.empty(batch.items, dtype=torch.int32, device=DEVICE)

    def first(self, s):
        return s * self.items

    def of_set(self, t, s):
        """Set s's part of an item array (a view: dsv4 takes it as the call's own array)."""
        return t[s * self.items:(s + 1) * self.items]

    def slots(self, s):
        """out_loc of set s's producing items (int64 tensor)."""
        first = s * self.producing_per_set
        return self.out_loc[self.producing[first:first + self.producing_per_set].long()]
