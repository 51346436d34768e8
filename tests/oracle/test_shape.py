"""PyTorch oracle for the shape family (C++ side: tests/oracle_shape.cpp): pad in the three
modes (torch.nn.functional.pad) and torch.gather / torch.index_select with repeated indices.

Every case stores x (and the i32 index), PyTorch's output y, a random output weight r and
PyTorch's input gradient gx = d(sum(y * r))/dx; the C++ case recomputes both with sakuga
(f32, CPU) and requires a relative error <= 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

o = oracle.Oracle()
cases = []


def add(params, x, fn, index=None):
    name = f"c{len(cases)}"
    x = x.float().clone().requires_grad_(True)
    y = fn(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    o.add(f"{name}.x", x.detach())
    if index is not None:
        o.add(f"{name}.index", index)
    o.add(f"{name}.y", y.detach())
    o.add(f"{name}.r", r)
    o.add(f"{name}.gx", x.grad)
    o.meta(name, params)
    cases.append(name)


# ---- pad: reflect / replicate / zeros (with a value), 3D and 4D, asymmetric -------------------
pad_cases = [
    ((2, 3, 7), [3, 1]),               # 3D, last dim
    ((2, 5, 6), [2, 4, 1, 3]),         # 3D, last two dims (unbatched 2-D padding)
    ((2, 3, 6, 7), [3, 1, 0, 5]),      # 4D, last two dims
    ((1, 2, 9, 4), [0, 3, 8, 2]),      # 4D, pads up to size - 1
]
for shape, pads in pad_cases:
    x = torch.randn(*shape)
    for mode in ("reflect", "replicate"):
        add({"op": "pad", "mode": mode, "pads": pads, "value": 0.0}, x,
            lambda t, pads=pads, mode=mode: F.pad(t, pads, mode=mode))
    add({"op": "pad", "mode": "zeros", "pads": pads, "value": 0.75}, x,
        lambda t, pads=pads: F.pad(t, pads, mode="constant", value=0.75))
# zeros mode on three dims, and negative pads (crop)
x = torch.randn(2, 3, 5, 4)
add({"op": "pad", "mode": "zeros", "pads": [1, 0, 2, 2, 0, 1], "value": 0.0}, x,
    lambda t: F.pad(t, [1, 0, 2, 2, 0, 1]))
add({"op": "pad", "mode": "zeros", "pads": [-1, 2, 1, -2], "value": 0.0}, x,
    lambda t: F.pad(t, [-1, 2, 1, -2]))

# ---- gather along dims 0 / 1 / -1 with repeated indices -----------------------------------------
gather_cases = [
    ((4, 5, 6), 0, (7, 5, 6)),
    ((3, 6, 5), 1, (2, 9, 4)),   # index narrower than x off-dim
    ((3, 4, 8), -1, (3, 4, 11)),
    ((16, 10), 1, (16, 1)),      # the classic class pick
]
for shape, dim, ishape in gather_cases:
    x = torch.randn(*shape)
    index = torch.randint(0, shape[dim], ishape)
    add({"op": "gather", "dim": dim}, x, lambda t, dim=dim, index=index: torch.gather(t, dim, index), index)

# ---- index_select with repeats --------------------------------------------------------------------
for shape, dim, n in [((4, 6, 3), 1, 13), ((5, 3), 0, 9), ((2, 3, 7), -1, 10)]:
    x = torch.randn(*shape)
    index = torch.randint(0, shape[dim], (n,))
    add({"op": "index_select", "dim": dim}, x, lambda t, dim=dim, index=index: torch.index_select(t, dim, index),
        index)

o.meta("cases", cases)
o.run("oracle_shape")
