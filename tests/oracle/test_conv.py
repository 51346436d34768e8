"""PyTorch oracle for the convolution family (C++ side: tests/oracle_conv.cpp).

Every case stores the f32 inputs (x, weight, bias when present), PyTorch's output y, a random
output weight r and PyTorch's gradients gx, gweight, gbias of L = sum(y * r). The references are
computed in float64 from the same f32 values (r included), then stored as f32; the C++ case
recomputes everything with sakuga (f32, CPU) and requires a max-norm relative error <= 1e-4.
Covers conv2d over strides / padding / dilation / groups (depthwise too), the factorised large
kernels of GCN (1xk and kx1 up to 49), and conv_transpose2d.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

o = oracle.Oracle()
cases = []


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def add(params, x, w, b):
    name = f"c{len(cases)}"
    inputs = {"x": x, "weight": w}
    if b is not None:
        inputs["bias"] = b
    leaves = {k: v.double().clone().requires_grad_(True) for k, v in inputs.items()}
    kw = dict(stride=tuple(params["stride"]), padding=tuple(params["padding"]),
              dilation=tuple(params["dilation"]), groups=params["groups"])
    if params["op"] == "conv2d":
        y = F.conv2d(leaves["x"], leaves["weight"], leaves.get("bias"), **kw)
    else:
        y = F.conv_transpose2d(leaves["x"], leaves["weight"], leaves.get("bias"),
                               output_padding=tuple(params["output_padding"]), **kw)
    r = torch.randn(y.shape)  # f32, used as is by the C++ side
    (y * r.double()).sum().backward()
    for k, v in inputs.items():
        o.add(f"{name}.{k}", v)
        o.add(f"{name}.g{k}", leaves[k].grad.float())
    o.add(f"{name}.y", y.detach().float())
    o.add(f"{name}.r", r)
    o.meta(name, dict(params, bias=b is not None))
    cases.append(name)


def conv(x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1, bias=True):
    x = torch.randn(*x_shape)
    fan_in = w_shape[1] * w_shape[2] * w_shape[3]
    w = torch.randn(*w_shape) / math.sqrt(fan_in)
    b = torch.randn(w_shape[0]) if bias else None
    add({"op": "conv2d", "stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation),
         "groups": groups}, x, w, b)


def convt(x_shape, w_shape, stride=1, padding=0, output_padding=0, dilation=1, groups=1, bias=True):
    x = torch.randn(*x_shape)
    fan_in = w_shape[0] * w_shape[2] * w_shape[3] // groups
    w = torch.randn(*w_shape) / math.sqrt(fan_in)
    b = torch.randn(w_shape[1] * groups) if bias else None
    add({"op": "conv_transpose2d", "stride": pair(stride), "padding": pair(padding),
         "output_padding": pair(output_padding), "dilation": pair(dilation), "groups": groups}, x, w, b)


# ---- conv2d: strides, paddings, dilations, groups -------------------------------------------
conv((2, 3, 17, 23), (8, 3, 3, 3), 1, 1)
conv((2, 3, 17, 23), (8, 3, 3, 3), 2, 1)
conv((2, 5, 16, 16), (7, 5, 3, 3), 1, 0, bias=False)
conv((2, 3, 33, 32), (16, 3, 7, 7), 2, 3, bias=False)          # ResNet stem, odd size
conv((2, 16, 9, 10), (8, 16, 1, 1), 1, 0)                        # pointwise
conv((2, 16, 9, 10), (8, 16, 1, 1), 2, 0, bias=False)            # ResNet downsample
conv((2, 6, 14, 15), (6, 6, 3, 3), 1, 2, dilation=2)
conv((1, 4, 20, 19), (5, 4, 3, 3), 2, 3, dilation=(3, 2))
conv((2, 8, 12, 11), (12, 4, 3, 3), 1, 1, groups=2)
conv((2, 9, 12, 11), (6, 3, 3, 3), 2, 1, groups=3, bias=False)
conv((2, 8, 12, 11), (8, 1, 3, 3), 1, 1, groups=8)               # depthwise
conv((2, 8, 12, 11), (16, 1, 5, 5), 2, 2, groups=8, bias=False)  # depthwise, multiplier 2
conv((2, 4, 13, 17), (5, 4, 3, 5), (2, 1), (1, 2), dilation=(1, 2))
conv((1, 3, 6, 7), (4, 3, 5, 5), 1, 3)                           # padding beyond the kernel radius

# ---- GCN factorised large kernels: k x 1 and 1 x k, k up to 49 -----------------------------
for k in (7, 15, 25, 49):
    conv((2, 8, 60, 70), (4, 8, 1, k), 1, (0, k // 2), bias=(k != 49))
    conv((2, 8, 60, 70), (4, 8, k, 1), 1, (k // 2, 0))
conv((1, 21, 30, 40), (21, 21, 1, 15), 1, (0, 7))                # palette-sized channels
conv((1, 2, 50, 51), (2, 2, 49, 1), 1, (24, 0), bias=False)

# ---- conv_transpose2d ------------------------------------------------------------------------
convt((2, 8, 7, 9), (8, 4, 4, 4), 2, 1)
convt((2, 8, 7, 9), (8, 4, 3, 3), 2, 1, output_padding=1)
convt((2, 8, 7, 9), (8, 3, 3, 3), 2, 1, output_padding=1, groups=2)
convt((2, 4, 5, 6), (4, 4, 3, 3), 1, 1, bias=False)
convt((1, 4, 5, 6), (4, 2, 3, 3), 2, 2, output_padding=1, dilation=2)
convt((2, 6, 6, 5), (6, 1, 4, 4), 2, 1, groups=6, bias=False)    # depthwise upsampling
convt((1, 3, 4, 5), (3, 5, 5, 3), (3, 2), (1, 0), output_padding=(2, 1))
convt((2, 16, 8, 8), (16, 8, 1, 1), 1, 0)                        # pointwise

o.meta("cases", cases)
o.run("oracle_conv")
