"""PyTorch twin of `sakuga bench train redraw --stage detect|encoder|redrawer`: the stage's
networks at the sizes of the resolved config, timing its training step on one fixed random batch
(timing does not depend on the values).

redrawer: G, D_q and D_c (tests/oracle/redraw_reference.py, the layouts of
nets/redraw/redrawer_nets.h), the step of nets/redraw/redrawer.h on crops in [0, 1] with an
elliptical eye region per image:

  D   G(l, h, m) without a graph; D_q on [m·x ‖ m·t], D_c on [v·x ‖ v·t] (v = max(1 − m, band));
      the patch cross-entropies; Adam (0.5, 0.999) steps D_q and D_c
  G   three G passes (x and l toward the guide, l toward its own guide), the triple reconstruction
      loss after L_σ, the context L1, the adversarial terms through the frozen discriminators;
      Adam steps G

detect: torchvision's ResNet-18 with the neck and heads of nets/redraw/detect_net.h, CenterNet's
penalty-reduced focal loss on a heat map with one Gaussian peak per face / eye box and the
log-size and offset L1 at the centres (nets/redraw/detect_core.h), Adam.

encoder: torchvision's ResNet-18 content embedding (512 → E) and the production encoder of
nets/redraw/encoder_net.h over R references per crop, E = normalise((1 + tanh a)·c + b), the
batch-hard triplet loss (losses/triplet.h) on designs × samples per design, Adam.

    build/sakuga bench train redraw --stage redrawer --steps 10 --json s.json
    /usr/bin/python3 bench/torch_redraw_train.py --sakuga-json s.json

Differences from sakuga's step that remain: sakuga builds both D inputs in one fused pass and
both discriminators' losses in another (ops::redraw_d_inputs, ops::patch_ce_pair), PyTorch
composes them from elementwise ops; a constant lr. Give the same --threads as sakuga's run.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))

import torch  # noqa: E402
import torchvision  # noqa: E402

import twin  # noqa: E402
from redraw_reference import Generator, PatchClassifier, lowpass, patch_ce, region_l1  # noqa: E402


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def normalise_imagenet(x):
    m = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s


def resnet18_stages():
    net = torchvision.models.resnet18()
    stem = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
    return torch.nn.ModuleList([stem, net.layer1, net.layer2, net.layer3, net.layer4])


class Detector(torch.nn.Module):
    def __init__(self, neck, head):
        super().__init__()
        self.backbone = resnet18_stages()
        nn = torch.nn
        self.lat = nn.ModuleList([nn.Conv2d(c, neck, 1) for c in (64, 128, 256, 512)])
        self.smooth = nn.Sequential(nn.Conv2d(neck, neck, 3, padding=1), nn.BatchNorm2d(neck), nn.ReLU())
        self.heads = nn.ModuleList([nn.Sequential(nn.Conv2d(neck, head, 3, padding=1), nn.ReLU(), nn.Conv2d(head, 2, 1))
                                    for _ in range(3)])

    def forward(self, x):
        f = self.backbone[0](normalise_imagenet(x))
        feats = []
        for stage in self.backbone[1:]:
            f = stage(f)
            feats.append(f)
        y = self.lat[3](feats[3])
        for i in (2, 1, 0):
            y = torch.nn.functional.interpolate(y, size=feats[i].shape[2:], mode="nearest") + self.lat[i](feats[i])
        y = self.smooth(y)
        return [h(y) for h in self.heads]


def focal(logits, gt):
    pred = logits.sigmoid().clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    neg = 1 - pos
    pos_loss = (torch.log(pred) * (1 - pred) ** 2 * pos).sum()
    neg_loss = (torch.log(1 - pred) * pred ** 2 * (1 - gt) ** 4 * neg).sum()
    return -(pos_loss + neg_loss) / pos.sum().clamp_min(1)


def detect_step(a, s, cfg, dev):
    d = cfg["detect"]
    B, (H, W) = d["batch"], d["size"]
    net = Detector(d["model"]["neck"], d["model"]["head"]).to(dev)
    o = d["optim"]
    opt = torch.optim.Adam(net.parameters(), lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"])
    x = torch.rand(B, 3, H, W, device=dev)
    h, w = H // 4, W // 4
    yy, xx = torch.meshgrid(torch.arange(h, device=dev), torch.arange(w, device=dev), indexing="ij")
    heat = torch.zeros(B, 2, h, w, device=dev)
    mask = torch.zeros(B, 1, h, w, device=dev)
    g = torch.Generator().manual_seed(0)
    for b in range(B):  # one face and two eyes per frame
        for kind, (cy, cx, r) in ((0, (h // 2, w // 2, 3.0)), (1, (h // 3, w // 3, 1.0)), (1, (h // 3, 2 * w // 3, 1.0))):
            heat[b, kind] = torch.maximum(heat[b, kind], torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)))
            mask[b, 0, cy, cx] = 1
    size_t, off_t = torch.randn(B, 2, h, w, generator=g).to(dev), torch.rand(B, 2, h, w, generator=g).to(dev)
    L = d["loss"]

    def l1(p, t):
        m = mask.expand_as(p)
        return (p * m - t * m).abs().sum() / (m.sum() + 1e-4)

    def step():
        hm, sz, of = net(x)
        loss = L["heat"] * focal(hm, heat) + L["size"] * l1(sz, size_t) + L["offset"] * l1(of, off_t)
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()

    ms = twin.time_steps(step, a.steps or s["steps"], a.warmup if a.warmup is not None else s["warmup"], dev)
    twin.report(a, "redraw", s, {"train": ms}, B, dev)  # the detect stage's harness stage is "train"


def encoder_step(a, s, cfg, dev):
    e = cfg["encoder"]
    B, R, S, E, w = (e["designs_per_batch"] * e["samples_per_design"], e["style_refs"], e["crop_size"], e["embedding"],
                     e["production_width"])
    nn = torch.nn
    content = resnet18_stages().to(dev)
    fc = nn.Linear(512, E).to(dev)
    ch = [3, w, 2 * w, 4 * w, 4 * w]
    prod = nn.Sequential(*[m for i in range(4) for m in (nn.Conv2d(ch[i], ch[i + 1], 3, 2, 1), nn.ReLU())]).to(dev)
    head = nn.Linear(4 * w, 2 * E).to(dev)
    params = list(content.parameters()) + list(fc.parameters()) + list(prod.parameters()) + list(head.parameters())
    o = e["optim"]
    opt = torch.optim.Adam(params, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"])
    x, refs = torch.rand(B, 3, S, S, device=dev), torch.rand(B, R, 3, S, S, device=dev)
    labels = torch.arange(e["designs_per_batch"], device=dev).repeat_interleave(e["samples_per_design"])
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(B, dtype=torch.bool, device=dev)

    def step():
        f = normalise_imagenet(x)
        for stage in content:
            f = stage(f)
        c = fc(f.mean((2, 3)))
        g = prod(refs.view(B * R, 3, S, S) * 2 - 1).mean((2, 3)).view(B, R, -1).mean(1)
        ab = head(g)
        emb = torch.nn.functional.normalize((1 + torch.tanh(ab[:, :E])) * c + ab[:, E:], dim=1)
        d = torch.cdist(emb, emb)
        hardest_pos = d.masked_fill(~same | eye, -1).max(1).values
        hardest_neg = d.masked_fill(same, float("inf")).min(1).values
        loss = (hardest_pos - hardest_neg + e["margin"]).clamp_min(0).mean()
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()

    ms = twin.time_steps(step, a.steps or s["steps"], a.warmup if a.warmup is not None else s["warmup"], dev)
    twin.report(a, "redraw", s, {"encoder": ms}, B, dev)


def main():
    a = twin.parser(__doc__).parse_args()
    s, cfg, dev = twin.load(a)
    stage = cfg.get("stage")
    if stage == "detect":
        return detect_step(a, s, cfg, dev)
    if stage == "encoder":
        return encoder_step(a, s, cfg, dev)
    if stage != "redrawer":
        sys.exit(f"torch_redraw_train.py: unknown stage {stage!r} in the sakuga run's config")
    rc, data = cfg["redrawer"], cfg["data"]
    net, loss = rc["net"], rc["loss"]
    B, S, K, P = rc["batch"], rc["crops"]["size"], data["designs"], data["productions"]
    G = Generator(net["channels"], net["levels"]).to(dev)
    Dq = PatchClassifier(3, K + 1, net["d_channels"], net["d_layers"]).to(dev)
    Dc = PatchClassifier(3, P + 1, net["d_channels"], net["d_layers"]).to(dev)
    adam = lambda n, o: torch.optim.Adam(n.parameters(), lr=o["lr"], betas=tuple(o["betas"]))  # noqa: E731
    oG, oq, oc = adam(G, rc["optim"]["G"]), adam(Dq, rc["optim"]["D"]), adam(Dc, rc["optim"]["D"])
    x, low, truth, guide, own = (torch.rand(B, 3, S, S, device=dev) for _ in range(5))
    yy, xx = torch.meshgrid(torch.arange(S, device=dev), torch.arange(S, device=dev), indexing="ij")
    ell = (((xx - S / 2) / (S / 5)) ** 2 + ((yy - S / 2.5) / (S / 10)) ** 2 <= 1).float()
    m = ell.expand(B, 1, S, S).contiguous()
    band = (torch.nn.functional.max_pool2d(m, 2 * loss["band"] + 1, 1, loss["band"]) -
            (-torch.nn.functional.max_pool2d(-m, 2 * loss["band"] + 1, 1, loss["band"]))).clamp(0, 1)
    r = -(-3 * loss["sigma"] // 1)
    region = torch.nn.functional.max_pool2d(m, int(2 * r + 1), 1, int(r))
    design = torch.randint(0, K, (B,), device=dev, dtype=torch.int32)
    target = torch.randint(0, K, (B,), device=dev, dtype=torch.int32)
    prod = torch.randint(0, P, (B,), device=dev, dtype=torch.int32)
    fq = torch.full((B,), K, device=dev, dtype=torch.int32)
    fc = torch.full((B,), P, device=dev, dtype=torch.int32)
    vis = torch.maximum(1 - m, band)
    comp = lambda g, l: m * g + (1 - m) * l  # noqa: E731
    sg = loss["sigma"]

    def step():
        with torch.no_grad():
            fake = comp(G(low, guide, m), low)
        d = (patch_ce(Dq(torch.cat([m * x, m * fake])), torch.cat([design, fq])) +
             patch_ce(Dc(torch.cat([vis * x, vis * fake])), torch.cat([prod, fc])))
        oq.zero_grad(set_to_none=False)
        oc.zero_grad(set_to_none=False)
        d.backward()
        oq.step()
        oc.step()
        with twin.Frozen(Dq, Dc):
            g_a, g_b, g_c = G(x, guide, m), G(low, guide, m), G(low, own, m)
            t_a, t_b, t_c = comp(g_a, x), comp(g_b, low), comp(g_c, low)
            context = (region_l1(g_a, x, 1 - m) + region_l1(g_b, low, 1 - m) + region_l1(g_c, low, 1 - m)) / 3
            low_lp = lowpass(low, sg)
            g = (loss["rec_a"] * region_l1(lowpass(t_a, sg), lowpass(truth, sg), region) +
                 loss["rec_b"] * region_l1(lowpass(t_b, sg), low_lp, region) +
                 loss["rec_c"] * region_l1(lowpass(t_c, sg), low_lp, region) +
                 loss["adv_q"] * patch_ce(Dq(m * t_b), target) + loss["adv_c"] * patch_ce(Dc(vis * t_b), prod) +
                 loss["context"] * context)
            oG.zero_grad(set_to_none=False)
            g.backward()
            oG.step()

    ms = twin.time_steps(step, a.steps or s["steps"], a.warmup if a.warmup is not None else s["warmup"], dev)
    twin.report(a, "redraw", s, {"redrawer": ms}, B, dev)


if __name__ == "__main__":
    main()
