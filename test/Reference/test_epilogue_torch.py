"""CPU checks of epilogue_torch.py against other formulations of the same math (no GPU needed).

Run: PYTHONPATH=python python3 test/Reference/test_epilogue_torch.py  (needs torch for the math
checks; positions run without).
"""
import importlib.util

from dsv4_reference import epilogue_torch


def check_positions():
    # decode: seq_len 1..4 share position 0 at ratio 4; 5 starts position 4; <= 0 is padding.
    assert [epilogue_torch.decode_position(s, 4) for s in (1, 4, 5, 8, 9)] == [0, 0, 4, 4, 8]
    assert epilogue_torch.decode_position(0, 4) is None and epilogue_torch.decode_position(-3, 4) is None
    assert epilogue_torch.decode_position(128, 128) == 0 and epilogue_torch.decode_position(129, 128) == 128
    # out-of-range positions and padding drop out; row order is kept.
    assert epilogue_torch.decode_items([5, 0, 13, 9], 4, 9, 10) == [(0, 4), (3, 8)]
    # prefill: position + 1 - ratio; row < 0 skipped; negative or >= P positions skipped.
    plan = [(3, 0, 7, 8), (-1, 0, 7, 8), (5, 1, 2, 8), (6, 1, 12, 8), (2, 0, 3, 8)]
    assert epilogue_torch.prefill_items(plan, 4, 9, 10) == [(3, 4), (2, 0)]


def check_math():
    import torch

    gen = torch.Generator().manual_seed(1)
    n, d, r = 3, 64, 16
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    w = 1 + 0.1 * torch.randn(d, generator=gen, dtype=torch.float64)
    freqs = epilogue_torch.random_freqs(10, r, gen, "cpu")
    pos = torch.tensor([0, 9, 4])
    eps, scale = 1e-6, d ** -0.5

    # Independent evaluation: per-row loop, complex multiply for RoPE, explicit +-1 Hadamard matrix.
    hmat = torch.tensor([[(-1) ** bin(i & k).count("1") for k in range(d)] for i in range(d)], dtype=torch.float64)
    for rotate in (False, True):
        got = epilogue_torch.epilogue(x.float(), w, eps, freqs, pos, r, rotate, scale)
        for i in range(n):
            xi = x[i].float().double()
            y = xi / torch.sqrt(torch.mean(xi * xi) + eps) * w
            tail = torch.view_as_complex(y[d - r:].reshape(-1, 2).contiguous())
            rot = torch.view_as_complex(freqs[pos[i]].double().reshape(-1, 2).contiguous())
            y = torch.cat((y[:d - r], torch.view_as_real(tail * rot).reshape(-1)))
            want = scale * (hmat @ y) if rotate else y
            assert torch.allclose(got[i], want, rtol=1e-12, atol=1e-12), (rotate, i)

    # The scaled transform is orthonormal and its own inverse.
    y = torch.randn(2, d, generator=gen, dtype=torch.float64)
    assert torch.allclose(epilogue_torch.hadamard(epilogue_torch.hadamard(y)) / d, y, atol=1e-12)
    # rounding_floor of bf16 is one bf16 rounding: about 2^-9 / sqrt(3) relative.
    floor = epilogue_torch.rounding_floor(torch.randn(64, 512, generator=gen, dtype=torch.float64), "bf16")
    assert 1e-3 < floor < 3e-3, floor
    assert epilogue_torch.rel_l2(y, y) == 0.0


def main():
    check_positions()
    if importlib.util.find_spec("torch") is None:
        print("test_epilogue_torch: positions ok; math skipped (no torch)")
        return
    check_math()
    print("test_epilogue_torch: ok")


if __name__ == "__main__":
    main()
