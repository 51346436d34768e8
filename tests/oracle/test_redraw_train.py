"""Oracle: the first training step of `sakuga train redraw --stage redrawer` against PyTorch.

Runs the sakuga CLI with --dump-first-step on synthetic crops (32 px, batch 3, a narrow G of
3 levels and 2-layer discriminators), loads the weights it started from into the PyTorch twins
of G, D_q and D_c below (the layouts of nets/redraw/redrawer_nets.h), and replays the step of
nets/redraw/redrawer.h with the dumped batch:
  D   fake = G(l, h, m) (no gradient); t = m·g + (1 − m)·l; D_q sees m·t, D_c sees max(1 − m, band)·t;
      patch cross-entropy of D_q on [real ‖ fake] against [design ‖ K] plus D_c's against
      [production ‖ P]; Adam (0.5, 0.999) steps D_q and D_c
  G   (D_q, D_c updated and frozen) the triple reconstruction loss after L_σ (region means) and
      the adversarial patch cross-entropies toward the target design and the production, and the
      context L1 of G's raw outputs outside the region
It compares the redrawn crops t_a, t_b, t_c, every reported loss and the gradients of every
parameter of G, D_q and D_c. The truth is computed in float64; the bound is max(1e-4, 3×
PyTorch's own float32 error).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402  (exits 77 without torch)

import torch  # noqa: E402

from redraw_reference import Generator, PatchClassifier, lowpass, patch_ce, region_l1  # noqa: E402
from safetensors_write import read_safetensors  # noqa: E402

TOL = 1e-4
C, LEVELS, DC, DL, SIZE, BATCH, DESIGNS, PRODUCTIONS = 4, 3, 4, 2, 32, 3, 5, 3


def sub(weights, prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}


def replay(got, weights, cfg, dtype):
    rc = cfg["redrawer"]
    loss = rc["loss"]
    G = Generator(C, LEVELS)
    Dq, Dc = PatchClassifier(3, DESIGNS + 1, DC, DL), PatchClassifier(3, PRODUCTIONS + 1, DC, DL)
    for net, prefix in ((G, "G."), (Dq, "D_q."), (Dc, "D_c.")):
        net.load_state_dict(sub(weights, prefix), strict=True)
        net.to(dtype)
    b = {k[6:]: v for k, v in got.items() if k.startswith("batch.")}
    x, low, truth, guide, own = (b[n].to(dtype) for n in ("x", "low", "truth", "guide", "own_guide"))
    m, band, region = (b[n].to(dtype) for n in ("mask", "band", "region"))
    design, target, production = b["design"], b["target"], b["production"]
    vis = torch.maximum(1 - m, band)
    comp = lambda g, l: m * g + (1 - m) * l  # noqa: E731
    adam = lambda net: torch.optim.Adam(net.parameters(), lr=rc["optim"]["D"]["lr"],  # noqa: E731
                                        betas=tuple(rc["optim"]["D"]["betas"]), eps=rc["optim"]["D"]["eps"])
    out = {}
    with torch.no_grad():
        fake = comp(G(low, guide, m), low)
    opt_q, opt_c = adam(Dq), adam(Dc)
    B = x.shape[0]
    fq, fc = torch.full((B,), DESIGNS, dtype=torch.int32), torch.full((B,), PRODUCTIONS, dtype=torch.int32)
    d_q = patch_ce(Dq(torch.cat([m * x, m * fake])), torch.cat([design, fq]))
    d_c = patch_ce(Dc(torch.cat([vis * x, vis * fake])), torch.cat([production, fc]))
    (d_q + d_c).backward()
    for net, prefix in ((Dq, "D_q"), (Dc, "D_c")):
        out.update({f"grad.{prefix}.{k}": p.grad.clone() for k, p in net.named_parameters()})
    opt_q.step()
    opt_c.step()
    for p in list(Dq.parameters()) + list(Dc.parameters()):
        p.requires_grad_(False)
    s = loss["sigma"]
    g_a, g_b, g_c = G(x, guide, m), G(low, guide, m), G(low, own, m)
    t_a, t_b, t_c = comp(g_a, x), comp(g_b, low), comp(g_c, low)
    context = (region_l1(g_a, x, 1 - m) + region_l1(g_b, low, 1 - m) + region_l1(g_c, low, 1 - m)) / 3
    low_lp = lowpass(low, s)
    rec_a = region_l1(lowpass(t_a, s), lowpass(truth, s), region)
    rec_b = region_l1(lowpass(t_b, s), low_lp, region)
    rec_c = region_l1(lowpass(t_c, s), low_lp, region)
    adv_q = patch_ce(Dq(m * t_b), target)
    adv_c = patch_ce(Dc(vis * t_b), production)
    g = (loss["rec_a"] * rec_a + loss["rec_b"] * rec_b + loss["rec_c"] * rec_c + loss["adv_q"] * adv_q +
         loss["adv_c"] * adv_c + loss["context"] * context)
    g.backward()
    out.update({f"grad.G.{k}": p.grad.clone() for k, p in G.named_parameters()})
    out.update({"t_a": t_a, "t_b": t_b, "t_c": t_c})
    for name, v in (("D", d_q + d_c), ("G", g), ("rec_a", rec_a), ("rec_b", rec_b), ("rec_c", rec_c),
                    ("adv_q", adv_q), ("adv_c", adv_c), ("context", context)):
        out[f"loss.{name}"] = v.reshape(1)
    return {k: v.detach() for k, v in out.items()}



def main():
    o = oracle.Oracle()
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "run")
        dump = run + ".first.safetensors"
        cmd = [o.args.sakuga, "train", "redraw", "--stage", "redrawer", "--synthetic", "--out", run,
               "--dump-first-step", dump, "--device", "cpu",
               "--set", f"redrawer.net.channels={C}", "--set", f"redrawer.net.levels={LEVELS}",
               "--set", f"redrawer.net.d_channels={DC}", "--set", f"redrawer.net.d_layers={DL}",
               "--set", f"redrawer.crops.size={SIZE}", "--set", f"redrawer.batch={BATCH}",
               "--set", "redrawer.crops.val_count=1", "--set", "redrawer.steps=1",
               "--set", f"data.designs={DESIGNS}", "--set", f"data.productions={PRODUCTIONS}",
               "--set", "redrawer.loss.sigma=1.5", "--set", "redrawer.loss.rec_b=3", "--set", "redrawer.loss.adv_c=0.5",
               "--set", "redrawer.loss.context=2"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            sys.exit(1)
        got, _ = read_safetensors(dump)
        weights, _ = read_safetensors(dump + ".weights.safetensors")
        with open(os.path.join(run, "config.json")) as f:
            cfg = json.load(f)
    want = replay(got, weights, cfg, torch.float64)
    torch32 = replay(got, weights, cfg, torch.float32)
    ok, worst, zeros = oracle.compare_step(got, want, torch32, TOL)
    losses = ", ".join(f"{k[5:]} {got[k].item():.4f}" for k in sorted(want) if k.startswith("loss."))
    print(f"redrawer step: {len(want)} tensors ({zeros} zero gradients), worst relative {worst[0]} {worst[1]:.2e}; "
          f"{losses}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
