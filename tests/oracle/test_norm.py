"""PyTorch oracle for the normalisation family (C++ side: tests/oracle_norm.cpp).

Every case stores the f32 inputs, PyTorch's output y, a random output weight r and PyTorch's
gradients of L = sum(y * r) for x (and weight, bias when affine). Batch-norm cases also store
the running buffers before (rm, rv) and after (rm1, rv1) the call — F.batch_norm updates them in
place, with the unbiased batch variance in training. References are computed in float64 from
the f32 inputs, then stored as f32; the C++ case recomputes everything with sakuga (f32, CPU)
and requires a max-norm relative error <= 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

o = oracle.Oracle()
cases = []


def add(params, x, affine, buffers=None):
    name = f"c{len(cases)}"
    C = x.shape[1]
    inputs = {"x": x * 2.0 + 0.5}
    if affine:
        inputs["weight"] = torch.rand(C) + 0.5
        inputs["bias"] = torch.randn(C)
    leaves = {k: v.double().clone().requires_grad_(True) for k, v in inputs.items()}
    w, b = leaves.get("weight"), leaves.get("bias")
    if params["op"] == "batch_norm":
        rm, rv = buffers
        o.add(f"{name}.rm", rm)
        o.add(f"{name}.rv", rv)
        rm64, rv64 = rm.double().clone(), rv.double().clone()
        y = F.batch_norm(leaves["x"], rm64, rv64, w, b, training=params["training"],
                         momentum=params["momentum"], eps=params["eps"])
        o.add(f"{name}.rm1", rm64.float())
        o.add(f"{name}.rv1", rv64.float())
    else:
        y = F.instance_norm(leaves["x"], weight=w, bias=b, eps=params["eps"])
    r = torch.randn(y.shape, dtype=torch.float64)
    (y * r).sum().backward()
    for k, v in inputs.items():
        o.add(f"{name}.{k}", v.float())
        o.add(f"{name}.g{k}", leaves[k].grad.float())
    o.add(f"{name}.y", y.detach().float())
    o.add(f"{name}.r", r.float())
    o.meta(name, dict(params, affine=affine))
    cases.append(name)


def buffers(C):
    return torch.randn(C) * 0.3, torch.rand(C) + 0.5


# ---- batch norm, training: batch statistics, running buffers updated -----------------------
add({"op": "batch_norm", "training": True, "momentum": 0.1, "eps": 1e-5}, torch.randn(4, 3, 5, 6), True, buffers(3))
add({"op": "batch_norm", "training": True, "momentum": 0.1, "eps": 1e-5}, torch.randn(2, 3, 5, 7), False, buffers(3))
add({"op": "batch_norm", "training": True, "momentum": 0.3, "eps": 1e-3}, torch.randn(8, 5), False, buffers(5))
add({"op": "batch_norm", "training": True, "momentum": 0.1, "eps": 1e-5}, torch.randn(16, 6), True, buffers(6))
add({"op": "batch_norm", "training": True, "momentum": 0.01, "eps": 1e-5}, torch.randn(3, 8, 17, 19), True,
    buffers(8))
# ---- batch norm, evaluation: running statistics, buffers untouched ----------------------------
add({"op": "batch_norm", "training": False, "momentum": 0.1, "eps": 1e-5}, torch.randn(2, 3, 4, 4), True, buffers(3))
add({"op": "batch_norm", "training": False, "momentum": 0.1, "eps": 1e-5}, torch.randn(5, 4), False, buffers(4))
# ---- instance norm: per (sample, channel) statistics ----------------------------------------
add({"op": "instance_norm", "eps": 1e-5}, torch.randn(2, 3, 5, 7), True)
add({"op": "instance_norm", "eps": 1e-5}, torch.randn(3, 2, 6, 4), False)
add({"op": "instance_norm", "eps": 1e-3}, torch.randn(1, 4, 16, 9), True)
add({"op": "instance_norm", "eps": 1e-5}, torch.randn(2, 5, 11), True)

o.meta("cases", cases)
o.run("oracle_norm")
