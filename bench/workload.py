"""Bench inputs: one configuration (default D=512, R=64, rotate), decode seq_lens or a prefill plan,
random data in rotating input sets."""
import math

import checkout_paths  # noqa: F401 - python/ and device/ on sys.path
from dsv4_reference import epilogue_torch

HEAD_DIM, ROPE_DIM = 512, 64
NUM_POSITIONS = 4096
MAX_SETS = 64      # input sets rotated per size; small sizes don't need more to leave the L2
DEVICE = "cuda"
DEFAULT_PARAMS = {"eps": 1e-6, "scale": HEAD_DIM ** -0.5, "ratio": 4, "weight_dtype": "f32"}


def params_from(manifest):
    """Compiled-in constants of a dsv4 kernel, so every implementation computes the same thing."""
    if manifest is None:
        return dict(DEFAULT_PARAMS)
    return {k: manifest[k] for k in DEFAULT_PARAMS}


def num_sets(rows, kv_dtype, l2_bytes, head_dim=HEAD_DIM):
    """Enough input sets that one pass over them moves more than twice the L2 (at least two)."""
    per_set = rows * head_dim * epilogue_torch.ELEMENT_BYTES[kv_dtype]
    return max(2, min(MAX_SETS, math.ceil(2 * l2_bytes / per_set)))


class Workload:
    """`sets` kv buffers [rows, D] of random data (never zeros: METHOD.md), one seq_lens, weight and
    freqs table shared by all sets; `plan` is the prefill plan naming the same (row, position)
    items as seq_lens, in the same order."""

    def __init__(self, rows, kv_dtype, params, sets, seed, head_dim=HEAD_DIM, rope_dim=ROPE_DIM,
                 rotate=True):
        import torch

        gen = torch.Generator(device=DEVICE).manual_seed(seed)
        self.rows, self.kv_dtype, self.params, self.gen = rows, kv_dtype, params, gen
        self.head_dim, self.rope_dim, self.rotate = head_dim, rope_dim, rotate
        self.kv = [self._random_rows() for _ in range(sets)]
        self.seq_lens = torch.randint(1, NUM_POSITIONS + 1, (rows,), device=DEVICE, generator=gen,
                                      dtype=torch.int32)
        weight = 0.5 + torch.rand(head_dim, device=DEVICE, generator=gen)
        self.weight = weight.to(epilogue_torch.torch_dtype(params["weight_dtype"]))
        self.freqs = epilogue_torch.random_freqs(NUM_POSITIONS, rope_dim, torch.Generator().manual_seed(seed), DEVICE)
        items = epilogue_torch.decode_items(self.seq_lens.tolist(), params["ratio"], NUM_POSITIONS, rows)
        assert len(items) == rows  # every seq_len is valid: the Triton reference has no guards
        self.positions = torch.tensor([pos for _, pos in items], device=DEVICE)
        # (row, batch_id, position, window_len) with position + 1 - ratio = the decode position.
        plan = torch.zeros(rows, 4, dtype=torch.int32, device=DEVICE)
        plan[:, 0] = torch.arange(rows, dtype=torch.int32, device=DEVICE)
        plan[:, 2] = self.positions.to(torch.int32) + params["ratio"] - 1
        self.plan = plan

    def _random_rows(self):
        import torch

        x = torch.randn(self.rows, self.head_dim, device=DEVICE, generator=self.gen)
        return x.to(epilogue_torch.torch_dtype(self.kv_dtype))

    def refresh(self, i):
        """New random contents for set i (timing leaves the sets holding repeated outputs)."""
        self.kv[i].copy_(self._random_rows())

    @property
    def bytes_moved(self):
        """Fewest bytes one call must move: each kv row read once and written once."""
        return 2 * self.kv[0].numel() * self.kv[0].element_size()

    def expected(self, before):
        """Float64 result for kv contents `before` (a copy of a set taken before the call)."""
        return epilogue_torch.epilogue(before, self.weight, self.params["eps"], self.freqs, self.positions,
                                  self.rope_dim, self.rotate, self.params["scale"])
