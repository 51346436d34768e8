"""PyTorch oracle for the GEMM family (C++ side: tests/oracle_linear.cpp).

Every case stores the f32 inputs, PyTorch's output y, a random output weight r and PyTorch's
gradients of L = sum(y * r) for every input (x, weight, bias for F.linear; a, b for matmul /
bmm). The references are computed in float64 from the same f32 inputs (then stored as f32), so
they are the exact products up to one rounding; the C++ case recomputes everything with sakuga
(f32, CPU) and requires a max-norm relative error <= 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

o = oracle.Oracle()
cases = []


def add(params, inputs, fn):
    """inputs: dict name -> f32 tensor; fn(**inputs as f64 leaves) -> output."""
    name = f"c{len(cases)}"
    leaves = {k: v.double().clone().requires_grad_(True) for k, v in inputs.items()}
    y = fn(**leaves)
    r = torch.randn(y.shape, dtype=torch.float64)
    (y * r).sum().backward()
    for k, v in inputs.items():
        o.add(f"{name}.{k}", v.float())
        o.add(f"{name}.g{k}", leaves[k].grad.float())
    o.add(f"{name}.y", y.detach().float())
    o.add(f"{name}.r", r.float())
    o.meta(name, dict(params, inputs=list(inputs)))
    cases.append(name)


# ---- F.linear: x (..., in), weight (out, in), bias (out) optional ---------------------------
linear_cases = [
    # x shape, out features, bias
    ((5, 7), 4, True),
    ((5, 7), 4, False),
    ((2, 3, 7), 4, True),
    ((2, 3, 7), 4, False),
    ((7,), 3, True),
    ((1, 1), 1, True),
    ((13, 5), 7, True),
    ((2, 2, 3, 6), 5, True),
    ((64, 256), 128, True),    # longer accumulations
    ((3, 50, 96), 33, False),
    ((300, 17), 1, True),      # a single output column: the bias gradient sums 300 rows
]
for xs, out_f, bias in linear_cases:
    in_f = xs[-1]
    inp = {"x": torch.randn(*xs), "weight": torch.randn(out_f, in_f) / in_f ** 0.5}
    if bias:
        inp["bias"] = torch.randn(out_f)
        add({"op": "linear"}, inp, lambda x, weight, bias: F.linear(x, weight, bias))
    else:
        add({"op": "linear"}, inp, lambda x, weight: F.linear(x, weight))

# ---- matmul (2-D and batched 3-D) and bmm ----------------------------------------------------
for sa, sb in [((7, 13), (13, 5)), ((8, 8), (8, 8)), ((1, 9), (9, 1)), ((40, 70), (70, 30)),
               ((2, 4, 3), (2, 3, 5))]:
    add({"op": "matmul"}, {"a": torch.randn(*sa), "b": torch.randn(*sb)}, lambda a, b: torch.matmul(a, b))
for sa, sb in [((3, 4, 5), (3, 5, 2)), ((3, 7, 13), (3, 13, 5)), ((2, 33, 64), (2, 64, 17))]:
    add({"op": "bmm"}, {"a": torch.randn(*sa), "b": torch.randn(*sb)}, lambda a, b: torch.bmm(a, b))
# A transposed operand (the C++ side builds the same view).
add({"op": "matmul_bt"}, {"a": torch.randn(6, 4), "b": torch.randn(5, 4)}, lambda a, b: torch.matmul(a, b.t()))

o.meta("cases", cases)
o.run("oracle_linear")
