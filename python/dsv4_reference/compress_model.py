"""SPEC.md "The compress step in front" in float64: which items produce a compressed row, the
per-channel softmax pooling of a window of the paged state cache, and the epilogue of the row.

Independent of the compiler and of dsv4's other models: plain Python floats (float64), with
the state, block table and RoPE table given as the f32 values the kernel reads. The quantized
bytes of a finished row are store_model.py's business (SPEC.md "Storing into the paged caches").

The rules for items that cannot produce a row (docs/SPEC.md, "How dsv4 meets it") are dsv4's:
a position below 0 or at or above INT32_MAX, a request outside the block table, a present
window position whose block lies outside the table's row or outside the state.
"""
import math

INT32_MAX = 2**31 - 1


class PagedState:
    """The state cache `[num_blocks, block_size, 2W]` (a flat sequence of floats, row-major)
    and the block table `[num_reqs, max_blocks]` (a list of rows)."""

    def __init__(self, values, num_blocks, block_size, row_width, block_table):
        assert len(values) == num_blocks * block_size * row_width
        self.values = values
        self.num_blocks = num_blocks
        self.block_size = block_size
        self.row_width = row_width
        self.block_table = block_table

    def block_of(self, request, q):
        """The block holding position q of the request, or None where the tables have none."""
        if not 0 <= request < len(self.block_table):
            return None
        row = self.block_table[request]
        column = q // self.block_size
        if column >= len(row) or not 0 <= row[column] < self.num_blocks:
            return None
        return row[column]

    def row(self, request, q):
        """The 2W floats of position q of the request (its block must exist)."""
        block = self.block_of(request, q)
        start = (block * self.block_size + q % self.block_size) * self.row_width
        return self.values[start:start + self.row_width]


class Compressor:
    """One compressor's shape: `ratio`, `overlap` (coff = 2) and the row width D."""

    def __init__(self, ratio, overlap, head_dim):
        self.ratio = ratio
        self.coff = 2 if overlap else 1
        self.head_dim = head_dim
        self.width = self.coff * head_dim  # W: score starts at float W of a state row

    def window(self, position):
        """The window positions q_i = p - n + 1 + i, i = 0..n-1, of an item at `position`."""
        n = self.coff * self.ratio
        return [position - n + 1 + i for i in range(n)]

    def skip_reason(self, state, request, position):
        """None when the item produces a row: a window's last token, 0 <= p < INT32_MAX, and
        the tables name a block of the state for every present window position; else why not."""
        if position < 0:
            return "padding"
        if position >= INT32_MAX:
            return "position past INT32_MAX"
        if (position + 1) % self.ratio != 0:
            return "not a boundary"
        if not 0 <= request < len(state.block_table):
            return "request outside the block table"
        for q in self.window(position):
            if q >= 0 and state.block_of(request, q) is None:
                if q // state.block_size >= len(state.block_table[request]):
                    return "window past the table's columns"
                return "block outside the state"
        return None

    def produces(self, state, request, position):
        return self.skip_reason(state, request, position) is None

    def window_len(self, position):
        return sum(1 for q in self.window(position) if q >= 0)

    def channel_offset(self, i):
        """Where channel 0 of window row i sits in kv (and, + W, in score): under overlap the
        window's last `ratio` rows read the state row's second half."""
        return self.head_dim if self.coff == 2 and i >= self.ratio else 0

    def pool(self, state, request, position):
        """y_c = sum_i kv_i[c] exp(s_i[c] - m_c) / sum_i exp(s_i[c] - m_c) over the present
        window rows, m_c their largest score (NaNs ignored, as maxNum), in float64."""
        rows = [(self.channel_offset(i), state.row(request, q))
                for i, q in enumerate(self.window(position)) if q >= 0]
        y = []
        for c in range(self.head_dim):
            pairs = [(row[offset + c], row[self.width + offset + c]) for offset, row in rows]
            scores = [s for _, s in pairs if not math.isnan(s)]
            m = max(scores) if scores else math.nan
            # s - m <= 0: no overflow; -inf - -inf and NaNs give NaN, as the formula does.
            weights = [math.exp(s - m) for _, s in pairs]
            y.append(sum(kv * w for (kv, _), w in zip(pairs, weights)) / sum(weights))
        return y

    def rope_position(self, position):
        return position + 1 - self.ratio


def epilogue(y, weight, freqs_row, eps, rope_dim, scale=None):
    """SPEC.md's function on the pooled row, in float64: RMSNorm, interleaved RoPE of the last
    rope_dim channels by `freqs_row` (cos, sin pairs), then scale * H_D y when `scale`."""
    d = len(y)
    r = 1.0 / math.sqrt(sum(v * v for v in y) / d + eps)
    out = [v * r * w for v, w in zip(y, weight)]
    start = d - rope_dim
    for j in range(rope_dim // 2):
        a, b = out[start + 2 * j], out[start + 2 * j + 1]
        c, s = freqs_row[2 * j], freqs_row[2 * j + 1]
        out[start + 2 * j], out[start + 2 * j + 1] = a * c - b * s, a * s + b * c
    if scale is not None:
        h = 1
        while h < d:
            for i in range(d):
                if not i & h:
                    out[i], out[i + h] = out[i] + out[i + h], out[i] - out[i + h]
            h *= 2
        out = [v * scale for v in out]
    return out
