"""PyTorch twin of `sakuga bench train gadn`: the GADN networks of shared/specs/gadn.md (the
oracle's PyTorch modules, tests/oracle/test_gadn_nets.py, built at the sizes of the resolved
config), the losses of losses/gadn.h and one optimiser per network and role, timing each stage's
step of nets/gadn/train.cpp (GadnFamily) on one fixed random batch (x in [-1, 1], labels a,
a' != a; timing does not depend on the values):

  stage1  E, S, G: L_rec + e_kl KL_E (nested-dropout weighted) + s_kl KL_S - c1 * capped
          adversarial term through the frozen C1, on rec = G(z masked, s_a) and
          x' = G(z masked, s_a' sampled under no-grad); Adam steps of E, G, S (S: optim.stage1_style);
          then C1's NLL on x'.detach() (a second forward) and its Adam step
  c2      C2's NLL on real x, its step
  stage2  E frozen, z under no-grad; x~ = G(z, s_a'); D's LSGAN loss on (x, x~.detach()), its
          step; C2's NLL(x, a) + NLU(x~.detach(), a'), its step; G, S through the frozen D, C2, E:
          d D(x~)^2 + c2 NLL(C2(x~), a') + cont ||mu(x~) - mu(x)||^2 + s_kl KL_S; steps of G, S

    build/sakuga bench train gadn --steps 20 --json s.json
    /usr/bin/python3 bench/torch_gadn_train.py --sakuga-json s.json

A stage with 0 steps in the config is left out, as sakuga does. Differences from sakuga's step
that remain: the learning-rate schedules (optim.*.warmup etc.) are not applied (a constant lr;
one scalar per step in sakuga); the nested-dropout mask is drawn on the device here, on the host
and copied in sakuga; on a GPU PyTorch's default TF32 flags are kept
(cuDNN convolutions TF32, matmuls not), while sakuga's GPU default (--precision tf32) uses TF32 for
both. Sakuga runs as many CPU threads as physical cores unless its --threads / $SAKUGA_THREADS
say otherwise: give this script the same --threads. The first step of a stage is slow (oneDNN set-up): keep --warmup >= 1.
"""
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import twin  # noqa: E402
from test_gadn_losses import kl_term, picked, rec_loss  # noqa: E402
from test_gadn_nets import Classifier, Discriminator, Encoder, ImageGenerator, StyleBank  # noqa: E402


# ---- sizes (nets/gadn/networks.cpp default_net_config, nets/gadn/config.cpp net_config) ----------

def default_style_size(labels):
    return min(max(min(labels // 4, 256), 16), labels)


def label_count(d):
    if d["source"] == "folder":  # the folder's label subdirectories
        if not d["dir"] or not os.path.isdir(d["dir"]):
            sys.exit(f"data.source folder: data.dir '{d['dir']}' is not a folder here (its labels give the sizes)")
        return sum(os.path.isdir(os.path.join(d["dir"], e)) for e in os.listdir(d["dir"]))
    return d["artists"] if d["label"] == "artist" else 10


def net_config(cfg):
    m, d = cfg["model"], cfg["data"]
    labels, size = label_count(d), d["size"]
    n = dict(labels=labels, zs=default_style_size(labels), alpha=m["alpha"])
    if m["channels"]:
        n.update(size=size, channels=list(m["channels"]), fc=m["fc"], z=m["z"])
    elif size in (28, 32):
        n.update(size=32, channels=[64, 128, 256], fc=512, z=64)
    elif size in (64, 128, 256):
        n.update(size=size, channels=[4096 // (size >> k) for k in range(1, size.bit_length()) if size >> k >= 4],
                 fc=2048, z=256 if size == 256 else 128)  # 32 channels at 128 px, ... 1024 at 4 px
        if size == 256:
            n["zs"] = 256
    else:
        sys.exit(f"gadn: no default network for data.size {size}; set model.channels, model.fc and model.z")
    for k in ("fc", "z", "zs"):
        if m[k] > 0:
            n[k] = m[k]
    return n


def spec_init_(net):
    """The spec's init: PyTorch defaults, then unit-norm output filters (transposed convs x2);
    the style bank's pstd = ln(e - 1) (sigma 1)."""
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, nn.ConvTranspose2d):
                mod.weight.div_(mod.weight.pow(2).sum((0, 2, 3), keepdim=True).add(1e-8).sqrt()).mul_(2.0)
            elif isinstance(mod, (nn.Conv2d, nn.Linear)):
                dims = tuple(range(1, mod.weight.dim()))
                mod.weight.div_(mod.weight.pow(2).sum(dims, keepdim=True).add(1e-8).sqrt())
            elif isinstance(mod, StyleBank):
                mod.pstd.fill_(math.log(math.e - 1))
    return net


# ---- optimisers (nets/harness/optim_spec.h) ------------------------------------------------------

class Opt:
    """One optimiser of an optim.* spec over one network, with the spec's gradient clipping."""

    def __init__(self, spec, net):
        p, k, wd = list(net.parameters()), spec["kind"], spec["weight_decay"]
        if k in ("adam", "adamw"):
            cls = torch.optim.Adam if k == "adam" else torch.optim.AdamW
            self.opt = cls(p, lr=spec["lr"], betas=tuple(spec["betas"]), eps=spec["eps"], weight_decay=wd,
                           amsgrad=spec["amsgrad"])
        elif k == "rmsprop":
            self.opt = torch.optim.RMSprop(p, lr=spec["lr"], alpha=spec["alpha"], eps=spec["eps"], weight_decay=wd,
                                           momentum=spec["momentum"], centered=spec["centered"])
        else:
            self.opt = torch.optim.SGD(p, lr=spec["lr"], momentum=spec["momentum"], dampening=spec["dampening"],
                                       nesterov=spec["nesterov"], weight_decay=wd)
        self.params, self.clip = p, spec["clip_grad_norm"]

    def zero_grad(self):
        self.opt.zero_grad(set_to_none=True)

    def step(self):
        if self.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip)
        self.opt.step()

    def update(self, loss):  # StepContext::update: zero, backward, step
        self.zero_grad()
        loss.backward()
        self.step()


# ---- losses (losses/gadn.cpp) ---------------------------------------------------------------------

def sample_code(mu, sigma, keep=None):
    """losses::sample_code: z = mu + sigma * eps and its KL (weighted by keep)."""
    return mu + sigma * torch.randn_like(mu), kl_term(mu, sigma, keep)


def nll(lp, labels):
    return -picked(lp, labels).mean()


def nlu(lp, labels):
    return -((1 - picked(lp, labels).exp()) + 1e-6).log().mean()


def c1_adversarial(lp, labels, log_freq, capped):
    l = picked(lp, labels)
    return -(torch.maximum(l, log_freq[labels]) if capped else l).mean()


def main():
    a = twin.parser(__doc__).parse_args()
    s, cfg, dev = twin.load(a)
    n = net_config(cfg)
    L, st, opt = cfg["loss"], cfg["train"]["stages"], cfg["optim"]
    torch.manual_seed(cfg["train"]["seed"])
    E, S, G, C1, C2, D = (spec_init_(cls(n)).to(dev).train()
                          for cls in (Encoder, StyleBank, ImageGenerator, Classifier, Classifier, Discriminator))
    K, Z = n["labels"], n["z"]
    log_freq = torch.full((K,), math.log(1.0 / K), device=dev)  # artists: uniform (class: near 0.1 each)
    p = max(0.0, 1.0 - 2.0 / Z)
    keep = torch.tensor([p ** i for i in range(Z)], device=dev) if L["nested_dropout"] else None

    def batch(stage):
        b = st[stage]["batch"] or cfg["data"]["batch"]
        x = torch.rand(b, 4 if n["alpha"] else 3, n["size"], n["size"], device=dev) * 2 - 1
        lab = torch.randint(0, K, (b,), device=dev)
        return x, lab, (lab + torch.randint(1, K, (b,), device=dev)) % K

    steps = {}
    if st["stage1"]["steps"] > 0:
        oE, oG, oC1 = Opt(opt["stage1"], E), Opt(opt["stage1"], G), Opt(opt["stage1"], C1)
        oS = Opt(opt["stage1_style"], S)
        x1, y1, y1b = batch("stage1")

        def stage1():
            mu, sigma = E(x1)
            z, kl_e = sample_code(mu, sigma, keep)
            sa, kl_s = sample_code(*S(y1))
            if keep is not None:  # each sample keeps a prefix of its content code
                z = z * (keep >= torch.rand(z.size(0), 1, device=dev)).to(z.dtype)
            with torch.no_grad():
                sa2 = sample_code(*S(y1b))[0]
            rec, swapped = G(torch.cat([z, sa], 1)), G(torch.cat([z, sa2], 1))
            loss = rec_loss(rec, x1) + kl_e * L["e_kl"] + kl_s * L["s_kl"]
            if L["c1"] > 0:
                with twin.Frozen(C1):
                    loss = loss - c1_adversarial(C1(swapped), y1, log_freq, L["adv_cap"]) * L["c1"]
            for o in (oE, oG, oS):
                o.zero_grad()
            loss.backward()
            for o in (oE, oG, oS):
                o.step()
            oC1.update(nll(C1(swapped.detach()), y1))

        steps["stage1"] = stage1
    if st["c2"]["steps"] > 0:
        oC2 = Opt(opt["c2"], C2)
        x2, y2, _ = batch("c2")
        steps["c2"] = lambda: oC2.update(nll(C2(x2), y2))
    if st["stage2"]["steps"] > 0:
        oG2, oD, oC2s2 = Opt(opt["stage2"], G), Opt(opt["stage2"], D), Opt(opt["stage2"], C2)
        oS2 = Opt(opt["stage2_style"], S)
        x3, y3, y3b = batch("stage2")

        def stage2():
            with torch.no_grad():
                mu_real, sigma = E(x3)
                z = sample_code(mu_real, sigma)[0]
            s2, kl_s = sample_code(*S(y3b))
            fake = G(torch.cat([z, s2], 1))
            oD.update(((D(x3) - 1) ** 2).mean() + ((D(fake.detach()) + 1) ** 2).mean())
            oC2s2.update(nll(C2(x3), y3) + nlu(C2(fake.detach()), y3b))
            with twin.Frozen(D, C2, E):
                g_loss = (D(fake) ** 2).mean() * L["d"] + nll(C2(fake), y3b) * L["c2"] \
                    + (E(fake)[0] - mu_real).pow(2).sum(1).mean() * L["cont"] + kl_s * L["s_kl"]
            oG2.zero_grad()
            oS2.zero_grad()
            g_loss.backward()
            oG2.step()
            oS2.step()

        steps["stage2"] = stage2

    n_steps, warmup = a.steps or s["steps"], a.warmup if a.warmup is not None else s["warmup"]
    stage_ms = {name: twin.time_steps(fn, n_steps, warmup, dev) for name, fn in steps.items()}
    twin.report(a, "gadn", s, stage_ms, {name: st[name]["batch"] or cfg["data"]["batch"] for name in steps}, dev)


if __name__ == "__main__":
    main()
