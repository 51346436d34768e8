"""PyTorch oracle for the contrastive row losses (C++ side: tests/oracle_nce.cpp).

  patch_nce  vs CUT's PatchNCELoss written out: l_pos = q_i·k_i, l_neg = bmm(q, kᵀ) with the
             diagonal masked_fill(-10), CE of cat(l_pos, l_neg)/τ with target 0, mean over rows
             (CUT detaches k; here k keeps its gradient to check both sides of the GEMM)
  hdce       vs Hneg_SRC's HDCE: l_neg weighted by W before the diagonal is masked,
             v = logsumexp((l_neg − l_pos)/τ), loss = mean(exp(v − v.detach())) − 1 + CE.detach()
             (value: the CE; gradient: the decoupled one)
  weights    vs W = rowsoftmax(Ã/γ) / rowmax, Ã = k·kᵀ with the diagonal −10
  src        vs Hneg_SRC's SRC_Loss: softmax along dim 1 of q·qᵀ and k·kᵀ, JSD from two KLDivLoss
             (log_target) sums, per image, mean over images (k detached)

Each case stores q, k (f32, rows L2-normalised), the loss and d loss/dq, d loss/dk in f64.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cut_reference import hdce, hdce_weights, masked_neg, patch_nce, src  # noqa: E402,F401

o = oracle.Oracle()
cases = []


def features(B, P, C, scale=1.0):
    x = torch.randn(B, P, C) * scale
    return (x / (x.norm(dim=-1, keepdim=True) + 1e-7)).float()


def add(op, B, P, C, tau, gamma=None, similar=False):
    name = f"c{len(cases)}"
    q = features(B, P, C)
    k = features(B, P, C)
    if similar:  # q close to k: the positives dominate (the trained regime)
        k = (q + 0.3 * k)
        k = (k / k.norm(dim=-1, keepdim=True)).float()
    q64 = q.double().clone().requires_grad_(True)
    k64 = k.double().clone().requires_grad_(True)
    w = None
    if op == "patch_nce":
        y = patch_nce(q64, k64, tau)
    else:
        w = hdce_weights(k.double(), gamma)
        y = hdce(q64, k64, w, tau)
    y.backward()
    o.add(f"{name}.q", q)
    o.add(f"{name}.k", k)
    o.add(f"{name}.y", y.detach().float().reshape(1))
    o.add(f"{name}.gq", q64.grad.float())
    o.add(f"{name}.gk", k64.grad.float())
    if w is not None:
        o.add(f"{name}.w", w.float())
    o.meta(name, {"op": op, "tau": tau, "gamma": gamma})
    cases.append(name)


def add_src(B, P, C, scale):
    name = f"c{len(cases)}"
    q = features(B, P, C)
    k = features(B, P, C)
    k = ((q + 0.5 * k) / (q + 0.5 * k).norm(dim=-1, keepdim=True)).float()
    q, k = (q * scale).float(), (k * scale).float()  # relation logits up to ±scale²
    q64 = q.double().clone().requires_grad_(True)
    y = src(q64, k.double())
    y.backward()
    o.add(f"{name}.q", q)
    o.add(f"{name}.k", k)
    o.add(f"{name}.y", y.detach().float().reshape(1))
    o.add(f"{name}.gq", q64.grad.float())
    o.meta(name, {"op": "src", "tau": 1.0, "gamma": None})
    cases.append(name)


torch.manual_seed(0)
for B, P, C in [(1, 256, 256), (2, 64, 16), (3, 7, 5), (1, 1, 4)]:
    add("patch_nce", B, P, C, 0.07)
    add("patch_nce", B, P, C, 0.07, similar=True)
    for gamma in (50.0, 10.0):
        add("hdce", B, P, C, 0.07, gamma=gamma, similar=True)
for B, P, C, scale in [(1, 256, 256, 1.0), (2, 64, 16, 2.0), (3, 7, 5, 1.0)]:
    add_src(B, P, C, scale)
add("patch_nce", 2, 32, 8, 1.0)
add("hdce", 2, 32, 8, 0.5, gamma=2.0)

o.meta("cases", cases)
o.run("oracle_nce")
