"""PyTorch oracle for the pooling and resampling family (C++ side: tests/oracle_pool.cpp).

Every case stores the input x, PyTorch's output y, a random output weight r and PyTorch's
input gradient gx = d(sum(y * r))/dx; the C++ case recomputes both with sakuga (f32, CPU) and
requires a relative error <= 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

o = oracle.Oracle()
cases = []


def add(params, x, fn):
    name = f"c{len(cases)}"
    x = x.float().clone().requires_grad_(True)
    y = fn(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    o.add(f"{name}.x", x.detach())
    o.add(f"{name}.y", y.detach())
    o.add(f"{name}.r", r)
    o.add(f"{name}.gx", x.grad)
    o.meta(name, params)
    cases.append(name)


# ---- resampling: both modes, both align_corners, odd sizes up and down ----------------------
resize_cases = [
    ((2, 3, 17, 23), (34, 45)),
    ((2, 3, 17, 23), (9, 12)),
    ((2, 3, 17, 23), (17, 23)),
    ((2, 3, 17, 23), (1, 1)),
    ((1, 2, 17, 23), (135, 241)),  # odd, 1080-like target ratio
    ((1, 2, 45, 80), (27, 48)),
    ((1, 2, 5, 5), (3, 3)),
    ((1, 1, 14, 10), (20, 15)),
    ((1, 2, 7, 9), (13, 5)),
    ((1, 1, 1, 1), (3, 4)),
    ((1, 2, 33, 7), (10, 29)),
]
for shape, size in resize_cases:
    x = torch.randn(*shape)
    for ac in (False, True):
        add({"op": "bilinear", "size": list(size), "align_corners": ac}, x,
            lambda t, size=size, ac=ac: F.interpolate(t, size=size, mode="bilinear", align_corners=ac))
    add({"op": "nearest", "size": list(size)}, x,
        lambda t, size=size: F.interpolate(t, size=size, mode="nearest"))

# ---- pooling ---------------------------------------------------------------------------------
pool_cases = [
    # shape, kernel, stride, padding, ceil_mode
    ((2, 3, 17, 23), (3, 3), (2, 2), (1, 1), False),  # ResNet stem on odd sizes
    ((2, 3, 17, 23), (3, 3), (2, 2), (1, 1), True),
    ((2, 4, 57, 57), (3, 3), (2, 2), (1, 1), False),
    ((2, 3, 17, 23), (2, 2), (2, 2), (0, 0), False),
    ((2, 3, 17, 23), (2, 2), (2, 2), (0, 0), True),
    ((1, 2, 10, 10), (3, 3), (2, 2), (1, 1), True),
    ((2, 2, 9, 8), (3, 2), (2, 1), (1, 1), True),
    ((1, 3, 12, 13), (3, 3), (1, 1), (1, 1), False),
    ((1, 2, 11, 16), (4, 4), (3, 3), (2, 1), True),
]
for shape, k, s, p, ceil in pool_cases:
    x = torch.randn(*shape)
    base = {"kernel": list(k), "stride": list(s), "padding": list(p), "ceil_mode": ceil}
    add(dict(base, op="max"), x,
        lambda t, k=k, s=s, p=p, ceil=ceil: F.max_pool2d(t, k, s, p, ceil_mode=ceil))
    for incl in (True, False):
        add(dict(base, op="avg", count_include_pad=incl), x,
            lambda t, k=k, s=s, p=p, ceil=ceil, incl=incl: F.avg_pool2d(t, k, s, p, ceil_mode=ceil,
                                                                       count_include_pad=incl))

adaptive_cases = [
    ((2, 3, 7, 11), (3, 5)),
    ((2, 3, 7, 11), (1, 1)),
    ((2, 3, 17, 23), (5, 7)),
    ((2, 3, 17, 23), (17, 23)),
    ((1, 2, 3, 4), (7, 9)),
    ((2, 4, 32, 30), (1, 1)),
    ((1, 2, 40, 37), (3, 2)),
]
for shape, size in adaptive_cases:
    add({"op": "adaptive", "size": list(size)}, torch.randn(*shape),
        lambda t, size=size: F.adaptive_avg_pool2d(t, size))

o.meta("cases", cases)
o.run("oracle_pool")
