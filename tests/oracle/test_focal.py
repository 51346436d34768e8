"""PyTorch oracle for the focal losses and the segmentation loss selection (C++ side:
tests/oracle_focal.cpp).

  binary focal  vs torchvision.ops.sigmoid_focal_loss (alpha=-1: no alpha weighting there too)
  softmax focal vs -w_y (1 - p_y)^gamma log p_y written out in PyTorch, mean over non-ignored
  wce           vs F.cross_entropy(weight=...) (through losses::segmentation_loss on the C++ side)

Every case stores the logits x (f32), the target, PyTorch's output y and gradient
gx = d(sum(y * r))/dx for a random r; the references are computed in f64 from the f32 inputs.
The C++ side recomputes them with sakuga (f32, CPU) and requires a relative error <= 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

o = oracle.Oracle()
cases = []


def add(params, x, target, fn, weight=None):
    """fn(x64, target) -> y (f64). Labels are int64 here and stored as i32."""
    name = f"c{len(cases)}"
    x = x.float()
    x64 = x.double().clone().requires_grad_(True)
    y = fn(x64, target)
    r = torch.randn(y.shape, dtype=torch.float64)
    (y * r).sum().backward()
    o.add(f"{name}.x", x)
    o.add(f"{name}.target", target if not target.is_floating_point() else target.float())
    o.add(f"{name}.y", y.detach().float())
    o.add(f"{name}.r", r.float())
    o.add(f"{name}.gx", x64.grad.float())
    if weight is not None:
        o.add(f"{name}.weight", weight.float())
    o.meta(name, dict(params, weight=weight is not None))
    cases.append(name)


def reduce(loss, red, count=None):
    if red == "none":
        return loss
    if red == "sum":
        return loss.sum()
    return loss.sum() / (loss.numel() if count is None else count)


def softmax_focal(x, t, gamma, weight, ignore_index, red):
    valid = t != ignore_index
    safe = torch.where(valid, t, torch.zeros_like(t))
    logp = F.log_softmax(x, dim=1).gather(1, safe.unsqueeze(1)).squeeze(1)
    w = weight.double()[safe] if weight is not None else torch.ones_like(logp)
    loss = -w * (1 - logp.exp()) ** gamma * logp
    loss = torch.where(valid, loss, torch.zeros_like(loss))
    return reduce(loss, red, valid.sum())


def labels_with_ignored(shape, classes, ignore_index, frac=0.1):
    t = torch.randint(0, classes, shape)
    t[torch.rand(shape) < frac] = ignore_index
    t.view(-1)[0] = ignore_index
    t.view(-1)[-1] = classes - 1
    return t


REDUCTIONS = ["none", "mean", "sum"]
N, C, H, W = 2, 10, 97, 130

# ---- binary focal (cel): (N, 1, H, W), hard and soft targets ---------------------------------
x = torch.randn(N, 1, H, W) * 3
hard = (torch.rand(N, 1, H, W) < 0.3).float()
soft = torch.rand(N, 1, H, W)
for red in REDUCTIONS:
    for gamma, alpha in [(2.0, 0.25), (2.0, -1.0), (0.0, -1.0), (1.0, 0.75), (2.5, 0.25)]:
        for tname, t in [("hard", hard), ("soft", soft)]:
            if tname == "soft" and red == "sum":
                continue
            add({"op": "binary_focal", "reduction": red, "gamma": gamma, "alpha": alpha, "target": tname}, x, t,
                lambda a, b, g=gamma, al=alpha, red=red:
                    torchvision.ops.sigmoid_focal_loss(a, b.double(), alpha=al, gamma=g, reduction=red))

# ---- softmax focal (douga): (N, C, H, W), ignore_index 255, with / without class weights -----
x = torch.randn(N, C, H, W) * 2
t = labels_with_ignored((N, H, W), C, 255)
w = torch.rand(C) * 2 + 0.1
for red in REDUCTIONS:
    for gamma in (0.0, 2.0, 2.5):
        for weight in (None, w):
            add({"op": "softmax_focal", "reduction": red, "gamma": gamma, "ignore_index": 255}, x, t,
                lambda a, b, g=gamma, wt=weight, red=red: softmax_focal(a, b, g, wt, 255, red), weight=weight)
# (N, C) layout, default ignore_index, C = 3
x2 = torch.randn(50, 3) * 2
t2 = labels_with_ignored((50,), 3, -100)
add({"op": "softmax_focal", "reduction": "mean", "gamma": 2.0, "ignore_index": -100}, x2, t2,
    lambda a, b: softmax_focal(a, b, 2.0, None, -100, "mean"))

# ---- segmentation_loss: wce and focal (douga), through the config ---------------------------
tt = torch.randint(0, C, (N, H, W))
add({"op": "seg", "kind": "wce", "gamma": 2.0}, x, tt,
    lambda a, b: F.cross_entropy(a, b, weight=w.double()), weight=w)
add({"op": "seg", "kind": "ce", "gamma": 2.0}, x, tt, lambda a, b: F.cross_entropy(a, b))
add({"op": "seg", "kind": "focal", "gamma": 2.0}, x, tt,
    lambda a, b: softmax_focal(a, b, 2.0, w, -100, "mean"), weight=w)
xc = torch.randn(N, 1, H, W) * 3
add({"op": "seg", "kind": "focal", "gamma": 2.0, "alpha": 0.25}, xc, hard,
    lambda a, b: torchvision.ops.sigmoid_focal_loss(a, b.double(), alpha=0.25, gamma=2.0, reduction="mean"))
add({"op": "seg", "kind": "bce", "gamma": 2.0}, xc, hard,
    lambda a, b: F.binary_cross_entropy_with_logits(a, b.double()))

o.meta("cases", cases)
o.run("oracle_focal")
