"""PyTorch oracle for the loss and softmax/reduction families (C++ side: tests/oracle_loss.cpp).

Every case stores the input x (plus target / class weight / pos_weight), PyTorch's output y, a
random output weight r and PyTorch's gradients gx = d(sum(y * r))/dx (and gt for float targets
that are differentiable); the C++ case recomputes them with sakuga (f32, CPU) and requires a
relative error <= 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

o = oracle.Oracle()
cases = []


def add(params, x, fn, target=None, weight=None, pos_weight=None, target_grad=False):
    """fn(x, target) -> y. Labels are int64 here and stored as i32."""
    name = f"c{len(cases)}"
    x = x.float().clone().requires_grad_(True)
    t = target
    if t is not None and t.is_floating_point():
        t = t.float().clone().requires_grad_(target_grad)
    y = fn(x, t)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    o.add(f"{name}.x", x.detach())
    o.add(f"{name}.y", y.detach())
    o.add(f"{name}.r", r)
    o.add(f"{name}.gx", x.grad)
    if t is not None:
        o.add(f"{name}.target", t.detach())
        if target_grad:
            o.add(f"{name}.gt", t.grad)
    if weight is not None:
        o.add(f"{name}.weight", weight)
    if pos_weight is not None:
        o.add(f"{name}.pos_weight", pos_weight)
    params = dict(params, target_grad=target_grad, weight=weight is not None, pos_weight=pos_weight is not None)
    o.meta(name, params)
    cases.append(name)


def labels_with_ignored(shape, classes, ignore_index, frac=0.25):
    t = torch.randint(0, classes, shape)
    mask = torch.rand(shape) < frac
    t[mask] = ignore_index
    # at least one ignored and one valid item
    t.view(-1)[0] = ignore_index
    t.view(-1)[-1] = classes - 1
    return t


REDUCTIONS = ["none", "mean", "sum"]

# ---- softmax family and reductions -----------------------------------------------------------
for shape, dim in [((4, 7), -1), ((4, 7), 0), ((2, 5, 7, 9), 1), ((3, 4, 5), 2), ((2, 3000), 1)]:
    x = torch.randn(*shape) * 2
    add({"op": "softmax", "dim": dim}, x, lambda t, _, dim=dim: F.softmax(t, dim=dim))
    add({"op": "log_softmax", "dim": dim}, x, lambda t, _, dim=dim: F.log_softmax(t, dim=dim))
    add({"op": "logsumexp", "dim": dim, "keepdim": False}, x,
        lambda t, _, dim=dim: torch.logsumexp(t, dim=dim))
add({"op": "softmax", "dim": 1}, torch.randn(3, 6) * 30, lambda t, _: F.softmax(t, dim=1))

for shape, dims, keep in [((2, 3, 5, 7), [0, 2, 3], True), ((2, 3, 5, 7), [1], False), ((4, 9), [], False),
                          ((3, 20000), [1], False)]:
    x = torch.randn(*shape)
    d = dims if dims else list(range(len(shape)))
    add({"op": "sum", "dims": dims, "keepdim": keep}, x, lambda t, _, d=d, keep=keep: t.sum(dim=d, keepdim=keep))
    add({"op": "mean", "dims": dims, "keepdim": keep}, x, lambda t, _, d=d, keep=keep: t.mean(dim=d, keepdim=keep))
for shape, dim, keep in [((4, 7), 1, False), ((2, 5, 3, 3), 1, True)]:
    x = torch.randn(*shape)
    add({"op": "max", "dim": dim, "keepdim": keep}, x, lambda t, _, dim=dim, keep=keep: t.max(dim=dim, keepdim=keep)[0])
    add({"op": "min", "dim": dim, "keepdim": keep}, x, lambda t, _, dim=dim, keep=keep: t.min(dim=dim, keepdim=keep)[0])

# ---- cross entropy / nll: (N, C) and (N, C, H, W) with odd H, W; weights; ignore_index ---------
for red in REDUCTIONS:
    for shape, ignore in [((16, 5), -100), ((2, 4, 7, 9), 255), ((3, 6, 5), -1)]:
        C = shape[1]
        tshape = (shape[0],) + tuple(shape[2:])
        x = torch.randn(*shape) * 2
        t = labels_with_ignored(tshape, C, ignore)
        w = torch.rand(C) * 2 + 0.2
        for weight in (None, w):
            add({"op": "cross_entropy", "reduction": red, "ignore_index": ignore}, x,
                lambda a, b, weight=weight, ignore=ignore, red=red:
                    F.cross_entropy(a, b, weight=weight, ignore_index=ignore, reduction=red),
                target=t, weight=weight)
            add({"op": "nll_loss", "reduction": red, "ignore_index": ignore}, x,
                lambda a, b, weight=weight, ignore=ignore, red=red:
                    F.nll_loss(F.log_softmax(a, dim=1), b, weight=weight, ignore_index=ignore, reduction=red),
                target=t, weight=weight)
    # no ignored label at all, default ignore_index
    x = torch.randn(10, 4)
    add({"op": "cross_entropy", "reduction": red, "ignore_index": -100}, x,
        lambda a, b, red=red: F.cross_entropy(a, b, reduction=red), target=torch.randint(0, 4, (10,)))
    # nll on raw (not normalised) inputs
    x = torch.randn(2, 3, 5, 3)
    add({"op": "nll_raw", "reduction": red, "ignore_index": 1}, x,
        lambda a, b, red=red: F.nll_loss(a, b, ignore_index=1, reduction=red),
        target=torch.randint(0, 3, (2, 5, 3)))

# ---- BCE with logits (with / without pos_weight), mse, l1 ------------------------------------
for red in REDUCTIONS:
    x = torch.randn(4, 3, 5, 7) * 3
    t = torch.rand(4, 3, 5, 7)
    t[0] = (t[0] > 0.5).float()  # some hard 0/1 targets
    add({"op": "bce_with_logits", "reduction": red}, x,
        lambda a, b, red=red: F.binary_cross_entropy_with_logits(a, b, reduction=red), target=t, target_grad=True)
    pw = torch.rand(7) * 3 + 0.2  # one per class along the last dim
    add({"op": "bce_with_logits", "reduction": red}, x,
        lambda a, b, red=red, pw=pw: F.binary_cross_entropy_with_logits(a, b, reduction=red, pos_weight=pw),
        target=t, pos_weight=pw, target_grad=True)
    pw2 = torch.rand(3, 1, 1) * 3 + 0.2
    add({"op": "bce_with_logits", "reduction": red}, x,
        lambda a, b, red=red, pw=pw2: F.binary_cross_entropy_with_logits(a, b, reduction=red, pos_weight=pw),
        target=t, pos_weight=pw2)
    x = torch.randn(3, 4, 5)
    t = torch.randn(3, 4, 5)
    add({"op": "mse_loss", "reduction": red}, x, lambda a, b, red=red: F.mse_loss(a, b, reduction=red),
        target=t, target_grad=True)
    add({"op": "l1_loss", "reduction": red}, x, lambda a, b, red=red: F.l1_loss(a, b, reduction=red),
        target=t, target_grad=True)

# ---- adversarial losses (losses/gan.h): x = D(real), target = D(fake), patch maps of two sizes ----
GAN_D = {
    # as torch.nn.BCEWithLogitsLoss against ones / zeros
    "nonsaturating": lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
    + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)),
    # as CUT's GANLoss('lsgan'): MSE against 1 / 0, the D loss halved
    "lsgan": lambda r, f: 0.5 * (F.mse_loss(r, torch.ones_like(r)) + F.mse_loss(f, torch.zeros_like(f))),
    "hinge": lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(),
}
GAN_G = {
    "nonsaturating": lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f)),
    "lsgan": lambda f: F.mse_loss(f, torch.ones_like(f)),
    "hinge": lambda f: -f.mean(),
}
for kind in GAN_D:
    real, fake = torch.randn(2, 1, 6, 6) * 2, torch.randn(3, 1, 6, 6) * 2
    add({"op": "gan_d", "kind": kind}, real, lambda a, b, k=kind: GAN_D[k](a, b), target=fake, target_grad=True)
    add({"op": "gan_g", "kind": kind}, fake, lambda a, b, k=kind: GAN_G[k](a))

o.meta("cases", cases)
o.run("oracle_loss")
