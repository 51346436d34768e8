"""PyTorch twin of `sakuga bench train toy-gan`: the same two MLPs (Linear + LeakyReLU 0.2), GAN
loss, instance noise and Adam optimisers; each stage's step (critic: D only; adversarial: D then G
through the frozen D).

    build/sakuga bench train toy-gan --steps 200 --json s.json
    python3 bench/torch_toygan_train.py --sakuga-json s.json
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import twin


def mlp(i, hidden, out, layers):
    mods = []
    for k in range(layers):
        mods.append(nn.Linear(i if k == 0 else hidden, out if k + 1 == layers else hidden))
        if k + 1 < layers:
            mods.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*mods)


def gan_losses(kind):
    if kind == "lsgan":
        return (lambda r, f: 0.5 * (((r - 1) ** 2).mean() + (f ** 2).mean()), lambda f: ((f - 1) ** 2).mean())
    if kind == "hinge":
        return (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean())
    return (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(), lambda f: F.softplus(-f).mean())


def adam(spec, params):
    return torch.optim.Adam(params, lr=spec["lr"], betas=tuple(spec["betas"]), eps=spec["eps"])


def main():
    a = twin.parser(__doc__).parse_args()
    s, cfg, dev = twin.load(a)
    m, d = cfg["model"], cfg["data"]
    g, dn = mlp(m["z_dim"], m["hidden"], 2, m["layers"]).to(dev), mlp(2, m["hidden"], 1, m["layers"]).to(dev)
    opt_g, opt_d = adam(cfg["optim"]["G"], g.parameters()), adam(cfg["optim"]["D"], dn.parameters())
    d_loss_fn, g_loss_fn = gan_losses(cfg["loss"]["gan"])
    sigma = cfg["loss"]["instance_noise"]
    n = d["batch"]
    real, z = torch.randn(n, 2, device=dev), torch.randn(n, m["z_dim"], device=dev)

    def noisy(x):
        return x + sigma * torch.randn_like(x) if sigma > 0 else x

    def d_step():
        fake = g(z).detach()
        loss = d_loss_fn(dn(noisy(real)), dn(noisy(fake)))
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()

    def both():
        d_step()
        for p in dn.parameters():
            p.requires_grad_(False)
        loss = g_loss_fn(dn(noisy(g(z))))
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        for p in dn.parameters():
            p.requires_grad_(True)

    steps, warmup = a.steps or s["steps"], a.warmup if a.warmup is not None else s["warmup"]
    stages = {}
    if cfg["stages"]["critic"] > 0:
        stages["critic"] = twin.time_steps(d_step, steps, warmup, dev)
    stages["adversarial"] = twin.time_steps(both, steps, warmup, dev)
    twin.report(a, "toy-gan", s, stages, n, dev)


if __name__ == "__main__":
    main()
