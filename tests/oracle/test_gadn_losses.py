"""Oracle: the GADN loss terms of shared/specs/gadn.md (losses/gadn.h) written in PyTorch
(float64) — values and gradients for each, and with them the fused ops under them
(ops::pixel_l2_loss, ops::gaussian_sample_kl). Formulas as the official code writes them
(stormraiser/adversarial-disentangle, commit d2830b9, and the capped C1 term of 4599176)."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def leaf(t):
    return t.double().clone().requires_grad_(True)


def rec_loss(g, x, w=None):
    n = torch.linalg.vector_norm(g - x, dim=1)  # (B, H, W); its gradient at 0 is 0
    if w is None:
        w = torch.full_like(n, 1.0 / (n.shape[1] * n.shape[2]))
    return (n * w).sum((1, 2)).mean()


def kl_term(mu, sigma, w=None):
    t = (mu.pow(2) + sigma.pow(2)) * 0.5 - sigma.log() - 0.5  # (B, Z)
    if w is not None:
        t = t * w
    return t.sum(1).mean()


def picked(lp, labels):
    return lp[torch.arange(lp.shape[0]), labels.long()]


def main():
    o = oracle.Oracle()
    cases = []

    # --- reconstruction (the fused pixel L2) ------------------------------------------------
    for name, shape, weighted in [("rec", (4, 3, 9, 11), False), ("rec_w", (4, 3, 9, 11), True),
                                  ("rec_big", (2, 3, 64, 64), False)]:
        g = torch.rand(shape) * 2 - 1
        x = torch.rand(shape) * 2 - 1
        x[:, :, 0, 0] = g[:, :, 0, 0]  # zero-norm pixels: gradient 0
        x[1, :, 3, :] = g[1, :, 3, :]
        o.add(f"{name}.g", g)
        o.add(f"{name}.x", x)
        gl, xl = leaf(g), leaf(x)
        w = None
        if weighted:
            w = torch.rand(shape[0], shape[2], shape[3])
            w = w / w.sum((1, 2), keepdim=True)  # alpha / Σ alpha, as the code
            o.add(f"{name}.w", w)
        loss = rec_loss(gl, xl, None if w is None else w.double())
        (loss * 1.7).backward()
        o.add(f"{name}.loss", loss.detach().float().reshape(()))
        o.add(f"{name}.grad.g", gl.grad.float())
        o.add(f"{name}.grad.x", xl.grad.float())
        cases.append(dict(kind="rec", name=name, weighted=weighted))

    # --- reparameterised sample + KL (E's code, with the nested-dropout weights) --------------
    B, Z = 5, 16
    p = 1 - 2 / Z
    keep = torch.tensor([p ** i for i in range(Z)], dtype=torch.float64)
    o.add("keep", keep.float())
    for name, weighted in [("kl", False), ("kl_w", True)]:
        mu = torch.randn(B, Z)
        sigma = F.softplus(torch.randn(B, Z)) + 0.05
        eps = torch.randn(B, Z)
        r = torch.randn(B, Z)
        for k, v in dict(mu=mu, sigma=sigma, eps=eps, r=r).items():
            o.add(f"{name}.{k}", v)
        ml, sl = leaf(mu), leaf(sigma)
        z = ml + sl * eps.double()
        kl = kl_term(ml, sl, keep if weighted else None)
        ((z * r.double()).sum() + 2.5 * kl).backward()
        o.add(f"{name}.z", z.detach().float())
        o.add(f"{name}.kl", kl.detach().float().reshape(()))
        o.add(f"{name}.grad.mu", ml.grad.float())
        o.add(f"{name}.grad.sigma", sl.grad.float())
        cases.append(dict(kind="kl", name=name, weighted=weighted))

    # --- KL_S over the batch's labels, through the style bank's parameters ----------------
    labels_n, Zs = 6, 8
    mean = torch.randn(labels_n, Zs) * 0.5
    pstd = torch.randn(labels_n, Zs)
    labels = torch.tensor([0, 3, 3, 5, 1, 0, 3], dtype=torch.int32)
    o.add("style.mean", mean)
    o.add("style.pstd", pstd)
    o.add("style.labels", labels)
    ml, pl = leaf(mean), leaf(pstd)
    kls = kl_term(ml[labels.long()], F.softplus(pl[labels.long()]))
    kls.backward()
    o.add("style.kl", kls.detach().float().reshape(()))
    o.add("style.grad.mean", ml.grad.float())
    o.add("style.grad.pstd", pl.grad.float())
    cases.append(dict(kind="style", name="style", labels=labels_n, zs=Zs))

    # --- classifier terms on log-softmax outputs ---------------------------------------------
    Bc, n = 9, 7
    logits = torch.randn(Bc, n) * 2.0
    labels = torch.randint(0, n, (Bc,), dtype=torch.int32)
    freq = torch.rand(n) + 0.2
    freq = freq / freq.sum()
    o.add("cls.logits", logits)
    o.add("cls.labels", labels)
    o.add("cls.freq", freq)
    lfreq = freq.double().log()

    def cls_case(name, fn):
        xl = leaf(logits)
        loss = fn(F.log_softmax(xl, 1))
        loss.backward()
        o.add(f"{name}.loss", loss.detach().float().reshape(()))
        o.add(f"{name}.grad", xl.grad.float())
        cases.append(dict(kind=name, name=name))

    cls_case("nll", lambda lp: -picked(lp, labels).mean())
    cls_case("adv_uncapped", lambda lp: -picked(lp, labels).mean())
    cls_case("adv_capped", lambda lp: -torch.max(picked(lp, labels), lfreq[labels.long()]).mean())
    cls_case("nlu", lambda lp: -((1 - picked(lp, labels).exp()) + 1e-6).log().mean())
    # The cap must bind for some samples and not for others (else the case tests nothing).
    lp0 = F.log_softmax(logits.double(), 1)
    below = (picked(lp0, labels) < lfreq[labels.long()]).sum().item()
    assert 0 < below < Bc, below

    # --- LSGAN and content consistency --------------------------------------------------------
    dr, df = torch.randn(6), torch.randn(5)
    o.add("gan.real", dr)
    o.add("gan.fake", df)
    rl, fl = leaf(dr), leaf(df)
    dl = (rl - 1).pow(2).mean() + (fl + 1).pow(2).mean()
    dl.backward()
    o.add("gan.d_loss", dl.detach().float().reshape(()))
    o.add("gan.d_grad.real", rl.grad.float())
    o.add("gan.d_grad.fake", fl.grad.float())
    fl2 = leaf(df)
    gl = fl2.pow(2).mean()
    gl.backward()
    o.add("gan.g_loss", gl.detach().float().reshape(()))
    o.add("gan.g_grad.fake", fl2.grad.float())
    cases.append(dict(kind="gan", name="gan"))

    mf, mr = torch.randn(4, 10), torch.randn(4, 10)
    o.add("cont.fake", mf)
    o.add("cont.real", mr)
    fl3, rl3 = leaf(mf), leaf(mr)
    cl = (fl3 - rl3).pow(2).sum(1).mean()
    cl.backward()
    o.add("cont.loss", cl.detach().float().reshape(()))
    o.add("cont.grad.fake", fl3.grad.float())
    o.add("cont.grad.real", rl3.grad.float())
    cases.append(dict(kind="cont", name="cont"))

    o.meta("cases", [c["name"] for c in cases])
    for c in cases:
        o.meta(c["name"], c)
    o.meta("nested", dict(z=Z, p=p))
    o.run("oracle_gadn_losses")


if __name__ == "__main__":
    main()
