"""sglang's plan structs of the store step, packed in plain Python, and the bench's batches.

sglang's fused store (`FusedNormRopeKernel::forward` of its DeepSeek-V4 JIT kernels) reads one
16-byte struct per kv row from a contiguous uint8 [N, 16] tensor, little-endian:
  DecodePlan    u32 seq_len, i32 write_loc, i32 read_page_0, i32 read_page_1
  CompressPlan  u32 seq_len, u16 ragged_id, u16 buffer_len, i32 read_page_0, i32 read_page_1
A decode row stores at out_loc[b] when write_loc >= 0, read_page_0 >= 0 and seq_len is a
multiple of the ratio; an extend (prefill) row stores at out_loc[ragged_id] unless its seq_len
is 0xFFFFFFFF (CompressPlan::invalid()). Both rope at position seq_len - ratio. dsv4's adapter
(dsv4.frameworks.sglang) reads the same bytes as int32 [N, 4] (include/dsv4/ABI/Handle.def).

No torch here: the CPU test (bench/test_sglang_peer.py) packs and checks these without a GPU.
"""
import random
import struct

PLAN_BYTES = 16
DECODE = struct.Struct("<Iiii")    # seq_len, write_loc, read_page_0, read_page_1
COMPRESS = struct.Struct("<IHHii")  # seq_len, ragged_id, buffer_len, read_page_0, read_page_1
INVALID_SEQ_LEN = 0xFFFFFFFF
MAX_RAGGED_ID = 0xFFFF              # ragged_id is a u16: an extend batch has at most 65536 rows
assert DECODE.size == COMPRESS.size == PLAN_BYTES


def pack_decode(plans):
    """bytes of DecodePlan structs from (seq_len, write_loc, read_page_0, read_page_1) tuples."""
    return b"".join(DECODE.pack(*p) for p in plans)


def pack_compress(plans):
    """bytes of CompressPlan structs from (seq_len, ragged_id, buffer_len, read_page_0,
    read_page_1) tuples."""
    return b"".join(COMPRESS.pack(*p) for p in plans)


def unpack(buffer, decode):
    """The tuples of pack_decode / pack_compress back from their bytes."""
    layout = DECODE if decode else COMPRESS
    if len(buffer) % PLAN_BYTES:
        raise ValueError(f"{len(buffer)} bytes is not a whole number of {PLAN_BYTES}-byte plans")
    return [layout.unpack_from(buffer, i) for i in range(0, len(buffer), PLAN_BYTES)]


def as_int32(buffer):
    """The structs as dsv4's adapter reads them: four int32 a row."""
    return [struct.unpack_from("<4i", buffer, i) for i in range(0, len(buffer), PLAN_BYTES)]


def window_ends(rows, ratio, num_positions, rng):
    """`rows` seq_lens, each a window end (a multiple of ratio) whose rope position
    seq_len - ratio lies in a table of num_positions rows."""
    windows = num_positions // ratio
    if windows < 1:
        raise ValueError(f"a table of {num_positions} positions holds no window of {ratio}")
    return [ratio * rng.randint(1, windows) for _ in range(rows)]


def decode_batch(rows, ratio, num_positions, seed):
    """Packed DecodePlans of a decode batch where every row stores: seq_len a window end, the
    state planned (write_loc and read_page_0 >= 0, read_page_1 unused: -1); row b stores at
    out_loc[b]."""
    rng = random.Random(seed)
    return pack_decode((seq_len, b, b, -1)
                       for b, seq_len in enumerate(window_ends(rows, ratio, num_positions, rng)))


def extend_batch(rows, ratio, num_positions, seed):
    """Packed CompressPlans of an extend batch where every row stores: seq_len a window end,
    ragged_id = m (row m stores at out_loc[m]), buffer_len and the read pages unused by the
    store (0, -1, -1)."""
    if rows > MAX_RAGGED_ID + 1:
        raise ValueError(f"an extend batch of {rows} rows: sglang's ragged_id is a u16 "
                         f"(at most {MAX_RAGGED_ID + 1} rows)")
    rng = random.Random(seed)
    return pack_compress((seq_len, m, 0, -1, -1)
                         for m, seq_len in enumerate(window_ends(rows, ratio, num_positions, rng)))


def batch(mode, rows, ratio, num_positions, seed):
    """decode_batch or extend_batch by mode ("decode" or "extend")."""
    if mode not in ("decode", "extend"):
        raise ValueError(f"mode {mode!r} is neither decode nor extend")
    build = decode_batch if mode == "decode" else extend_batch
    return build(rows, ratio, num_positions, seed)


def to_tensor(torch, buffer, device):
    """The packed structs as sglang's contiguous uint8 [N, 16] tensor on `device`."""
    rows = len(buffer) // PLAN_BYTES
    return torch.frombuffer(bytearray(buffer), dtype=torch.uint8).view(rows, PLAN_BYTES).to(device)
