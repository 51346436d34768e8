"""PyTorch twin of `sakuga bench train redraw --stage redrawer`: the redrawer's G, D_q and D_c
(tests/oracle/redraw_reference.py, the layouts of nets/redraw/redrawer_nets.h) at the sizes of
the resolved config, timing the training step of nets/redraw/redrawer.h on one fixed random batch
(crops in [0, 1], an elliptical eye region per image; timing does not depend on the values):

  D   G(l, h, m) without a graph; D_q on [m·x ‖ m·t], D_c on [v·x ‖ v·t] (v = max(1 − m, band));
      the patch cross-entropies; Adam (0.5, 0.999) steps D_q and D_c
  G   three G passes (x and l toward the guide, l toward its own guide), the triple reconstruction
      loss after L_σ, the context L1, the adversarial terms through the frozen discriminators;
      Adam steps G

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

import twin  # noqa: E402
from redraw_reference import Generator, PatchClassifier, lowpass, patch_ce, region_l1  # noqa: E402


def main():
    a = twin.parser(__doc__).parse_args()
    s, cfg, dev = twin.load(a)
    if cfg.get("stage") != "redrawer":
        sys.exit(f"torch_redraw_train.py times the redrawer stage; the sakuga run was stage {cfg.get('stage')}")
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
