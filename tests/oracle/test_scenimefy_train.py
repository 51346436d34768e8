"""Oracle: the first training step of `sakuga train scenimefy` against PyTorch.

Runs the sakuga CLI with --dump-first-step on synthetic scenes (32², batch 2, a narrow G with
5 blocks so that taps 12 and 16 exist), loads the weights it started from into CUT's modules
(cut_reference.py), and replays the step in the reference's own structure — a separate encoder
pass for every image of every loss, as Scenimefy's semi_cut_model.py does — with the dumped
batch and patch positions:
  D    ½[(D(y) − 1)² + D(G(x))²], then Adam (0.5, 0.999) steps D
  D_p  the same on x_p ‖ y_p and x_p ‖ G(x_p), then Adam steps D_p
  G    (D, D_p updated and frozen) GAN + λ_HDCE·½[HDCE(x) + HDCE(y)] + λ_SRC·SRC
       + λ_pair·(GAN_p + λ_s·StylePatchNCE)
It compares the outputs, the patch features, every reported loss and the gradients of every
parameter of G, F, F_s, D and D_p. Also run with --reference-weighting (λ_s²).
The truth is computed in float64; the bound is max(1e-4, 3× PyTorch's own float32 error).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402  (exits 77 without torch)

import torch  # noqa: E402

from cut_reference import (NLayerDiscriminator, PatchSampleF, ResnetGenerator, hdce, hdce_weights,  # noqa: E402
                           patch_nce, src)
from safetensors_write import read_safetensors  # noqa: E402

TOL = 1e-4
NGF, BLOCKS, NDF, NC, PATCHES, SIZE, BATCH = 4, 5, 4, 16, 24, 32, 2
CASES = [("default", []), ("reference-weighting", ["--reference-weighting"])]



def sub(weights, prefix):
    return {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}


def replay(got, weights, cfg, dtype):
    """The reference step in `dtype`; returns {name: tensor} under the dump's names."""
    taps = cfg["model"]["taps"]
    loss_cfg = cfg["loss"]
    tau = loss_cfg["tau"]
    G = ResnetGenerator(NGF, BLOCKS)
    D, D_p = NLayerDiscriminator(3, NDF), NLayerDiscriminator(6, NDF)
    widths = [3, 2 * NGF, 4 * NGF, 4 * NGF, 4 * NGF]
    F_, F_s = PatchSampleF(widths, NC), PatchSampleF(widths, NC)
    for net, prefix in ((G, "G."), (D, "D."), (D_p, "D_p."), (F_, "F."), (F_s, "F_s.")):
        net.load_state_dict(sub(weights, prefix), strict=True)
        net.to(dtype)
    x, y, xp, yp = (got["batch." + n].to(dtype) for n in ("x", "y", "xp", "yp"))
    pos = [got[f"positions.{l}"].long() for l in range(len(taps))]
    spos = [got[f"style_positions.{l}"].long() for l in range(len(taps))]
    gamma, lam_pair = got["gamma"].item(), got["lambda_pair"].item()
    lam_s = loss_cfg["style"] ** 2 if loss_cfg["reference_weighting"] else loss_cfg["style"]
    adam_of = lambda net: dict(lr=cfg["optim"][net]["lr"], betas=tuple(cfg["optim"][net]["betas"]),  # noqa: E731
                               eps=cfg["optim"][net]["eps"])
    out = {}

    fake_B, idt_B, fake_p = G(x), G(y), G(xp)
    # D, then D_p, each stepped before the generator's loss (the reference's order).
    opt_d = torch.optim.Adam(D.parameters(), **adam_of("D"))
    loss_d = 0.5 * (((D(fake_B.detach())) ** 2).mean() + ((D(y) - 1) ** 2).mean())
    loss_d.backward()
    out.update({f"grad.D.{k}": p.grad.clone() for k, p in D.named_parameters()})
    opt_d.step()
    opt_dp = torch.optim.Adam(D_p.parameters(), **adam_of("D_p"))
    loss_dp = 0.5 * ((D_p(torch.cat([xp, fake_p.detach()], 1)) ** 2).mean() +
                     ((D_p(torch.cat([xp, yp], 1)) - 1) ** 2).mean())
    loss_dp.backward()
    out.update({f"grad.D_p.{k}": p.grad.clone() for k, p in D_p.named_parameters()})
    opt_dp.step()
    for p in list(D.parameters()) + list(D_p.parameters()):
        p.requires_grad_(False)

    g_gan = ((D(fake_B) - 1) ** 2).mean()
    pair_gan = ((D_p(torch.cat([xp, fake_p], 1)) - 1) ** 2).mean()

    def pool(net, img, ids):  # (B, P, nc) per tap
        return [f.reshape(BATCH, -1, f.shape[1]) for f in net(G(img, taps), ids)]

    feat_q, feat_k = pool(F_, fake_B, pos), [f.detach() for f in pool(F_, x, pos)]
    idt_q, idt_k = pool(F_, idt_B, pos), [f.detach() for f in pool(F_, y, pos)]
    style_q, style_k = pool(F_s, fake_p, spos), [f.detach() for f in pool(F_s, yp, spos)]
    T = len(taps)
    mean = lambda vals: sum(vals) / T  # noqa: E731
    hdce_x = mean([hdce(q, k, hdce_weights(k, gamma), tau) for q, k in zip(feat_q, feat_k)])
    hdce_y = mean([hdce(q, k, hdce_weights(k, gamma), tau) for q, k in zip(idt_q, idt_k)])
    l_hdce = 0.5 * (hdce_x + hdce_y)
    l_src = mean([src(q, k) for q, k in zip(feat_q, feat_k)])
    l_style = mean([patch_nce(q, k, tau) for q, k in zip(style_q, style_k)])
    l_nce = mean([patch_nce(q.detach(), k, tau) for q, k in zip(feat_q, feat_k)])
    loss_g = (g_gan * loss_cfg["gan"] + l_hdce * loss_cfg["hdce"] + l_src * loss_cfg["src"] +
              (pair_gan * loss_cfg["gan_pair"] + l_style * lam_s) * lam_pair)
    loss_g.backward()
    for net, prefix in ((G, "G"), (F_, "F"), (F_s, "F_s")):
        out.update({f"grad.{prefix}.{k}": p.grad.clone() for k, p in net.named_parameters()})
    out.update({"fake_B": fake_B, "idt_B": idt_B, "fake_pair": fake_p})
    for l in range(T):
        for name, feats in (("feat_q", feat_q), ("feat_k", feat_k), ("idt_q", idt_q), ("idt_k", idt_k),
                            ("style_q", style_q), ("style_k", style_k)):
            out[f"{name}.{l}"] = feats[l].reshape(-1, NC)
    for name, v in (("nce", l_nce), ("hdce", l_hdce), ("src", l_src), ("style_nce", l_style), ("G_GAN", g_gan),
                    ("pair_GAN", pair_gan), ("G", loss_g), ("D", loss_d), ("D_p", loss_dp)):
        out[f"loss.{name}"] = v.reshape(1)
    return {k: v.detach() for k, v in out.items()}


def run_case(sakuga, name, flags, tmp):
    run = os.path.join(tmp, name)
    dump = run + ".first.safetensors"
    cmd = [sakuga, "train", "scenimefy", "--synthetic", "--out", run, "--dump-first-step", dump,
           "--device", "cpu", "--set", f"model.ngf={NGF}", "--set", f"model.blocks={BLOCKS}",
           "--set", f"model.ndf={NDF}", "--set", f"model.nc={NC}", "--set", f"model.patches={PATCHES}",
           "--set", f"data.size={SIZE}", "--set", f"data.batch={BATCH}", "--set", "data.val_count=1",
           "--set", "train.steps=1", "--set", "eval.samples=0", "--set", "loss.style=0.05",
           "--set", "loss.hdce=0.1"] + flags
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        return False
    got, _ = read_safetensors(dump)
    weights, _ = read_safetensors(dump + ".weights.safetensors")
    with open(os.path.join(run, "config.json")) as f:
        cfg = json.load(f)
    # The pinned schedule values at step 0 of a 20-epoch run.
    ok = abs(got["gamma"].item() - (50 - 40 / 20)) < 1e-6 and abs(got["lambda_pair"].item() - 1) < 1e-6
    if not ok:
        print(f"  FAIL schedules: gamma {got['gamma'].item()}, lambda_pair {got['lambda_pair'].item()}")
    want = replay(got, weights, cfg, torch.float64)
    torch32 = replay(got, weights, cfg, torch.float32)
    good, worst, zeros = oracle.compare_step(got, want, torch32, TOL)
    ok = ok and good
    losses = ", ".join(f"{k[5:]} {got[k].item():.4f}" for k in sorted(want) if k.startswith("loss."))
    print(f"{name}: {len(want)} tensors ({zeros} zero gradients), worst relative {worst[0]} {worst[1]:.2e}; {losses}")
    return ok


def main():
    o = oracle.Oracle()  # parses --sakuga / --tests
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, flags in CASES:
            ok = run_case(o.args.sakuga, name, flags, tmp) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
