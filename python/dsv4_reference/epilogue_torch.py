"""Float64 reference of the compressor epilogue (SPEC.md), shared by the GPU proof and the bench.

Written from SPEC.md alone, independent of the compiler and of the Triton kernels it judges. torch is
imported inside the functions that need it, so the pure-Python parts (work-item positions, dtype
names) load and run where torch is absent.
"""

BOUNDS = {"f32": 1e-6, "bf16": 4e-3, "f16": 1e-3}  # relative L2 error allowed for dsv4, by kv dtype
ELEMENT_BYTES = {"f32": 4, "bf16": 2, "f16": 2}


def torch_dtype(name):
    import torch

    return {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[name]


def bits_dtype(name):
    """An integer dtype of the same width, so poisoned (NaN) contents compare bit for bit."""
    import torch

    return torch.int32 if name == "f32" else torch.int16


def same_bits(a, b, name):
    """Bitwise equality of two tensors of kv dtype `name` (torch.equal says NaN != NaN)."""
    import torch

    return bool(torch.equal(a.view(bits_dtype(name)), b.view(bits_dtype(name))))


def decode_position(seq_len, ratio):
    """None marks a padding row (seq_len <= 0)."""
    if seq_len <= 0:
        return None
    return ((seq_len - 1) // ratio) * ratio


def prefill_position(plan_row, ratio):
    """plan_row is (row, batch_id, position, window_len); None marks a skipped item (row < 0)."""
    if plan_row[0] < 0:
        return None
    return plan_row[2] + 1 - ratio


def decode_items(seq_lens, ratio, num_positions, num_rows):
    """(row, position) of every decode item the kernel must compute, in item order."""
    items = []
    for row, seq_len in enumerate(seq_lens):
        pos = decode_position(seq_len, ratio)
        if pos is not None and 0 <= pos < num_positions and row < num_rows:
            items.append((row, pos))
    return items


def prefill_items(plan_rows, ratio, num_positions, num_rows):
    """(row, position) of every prefill item the kernel must compute, in item order."""
    items = []
    for plan_row in plan_rows:
        pos = prefill_position(plan_row, ratio)
        if pos is not None and 0 <= pos < num_positions and plan_row[0] < num_rows:
            items.append((plan_row[0], pos))
    return items


def epilogue(x, weight, eps, freqs, positions, rope_dim, rotate, scale):
    """SPEC steps 1-3 in float64: x [n, D], weight [D], freqs [P, R] (cos, sin interleaved),
    positions [n] int64 indices into freqs. Inputs of any float dtype are upcast first."""
    import torch

    x = x.to(torch.float64)
    n, d = x.shape
    y = x * torch.rsqrt((x * x).sum(dim=1, keepdim=True) / d + eps) * weight.to(torch.float64)
    y = rope_tail(y, freqs.to(torch.float64)[positions], rope_dim)
    if rotate:
        y = hadamard(y) * scale
    return y


def rope_tail(y, freqs_rows, rope_dim):
    """Rotate the last rope_dim channels of y by the per-row (cos, sin) pairs in freqs_rows."""
    import torch

    n, d = y.shape
    pairs = y[:, d - rope_dim:].reshape(n, rope_dim // 2, 2)
    cs = freqs_rows[:, :rope_dim].reshape(n, rope_dim // 2, 2)
    a, b, c, s = pairs[..., 0], pairs[..., 1], cs[..., 0], cs[..., 1]
    rotated = torch.stack((a * c - b * s, a * s + b * c), dim=-1).reshape(n, rope_dim)
    return torch.cat((y[:, :d - rope_dim], rotated), dim=1)


def hadamard(y):
    """Unscaled Walsh-Hadamard in Sylvester order: log2(D) butterfly stages of stride 1, 2, 4, ..."""
    import torch

    n, d = y.shape
    h = 1
    while h < d:
        # Index i = block * 2h + half * h + k: half 0 holds y_i, half 1 holds y_{i+h}.
        v = y.reshape(n, d // (2 * h), 2, h)
        y = torch.stack((v[:, :, 0] + v[:, :, 1], v[:, :, 0] - v[:, :, 1]), dim=2).reshape(n, d)
        h *= 2
    return y


def rel_l2(out, ref):
    """||out - ref|| / ||ref|| over everything, in float64."""
    import torch

    out = out.to(torch.float64)
    ref = ref.to(torch.float64)
    return float(torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref))


def rounding_floor(ref, dtype_name):
    """Error of rounding the exact result to kv's type once: what a perfect kernel still shows."""
    return rel_l2(ref.to(torch_dtype(dtype_name)), ref)


def random_freqs(num_positions, rope_dim, generator, device):
    """f32 [P, R] RoPE table of unit complex numbers at random angles (cos, sin interleaved)."""
    import torch

    theta = torch.rand(num_positions, rope_dim // 2, generator=generator, dtype=torch.float64) * 6.283185307179586
    table = torch.stack((torch.cos(theta), torch.sin(theta)), dim=-1).reshape(num_positions, rope_dim)
    return table.to(torch.float32).to(device)
