"""PyTorch twin of `sakuga bench train scenimefy`: CUT's modules (tests/oracle/cut_reference.py)
at the sizes of the resolved config, the losses of scenimefy.md and Adam (0.5, 0.999) for G, D,
D_p, F, F_s, timing the training step of nets/scenimefy/train.cpp on one fixed random batch
(x, y, x_p, y_p in [-1, 1]; timing does not depend on the values), in two structures:

  train            the step as sakuga runs it: one translation pass over (x, y, x_p) whose
                   intermediate outputs are the sources' tap features, one encoder pass over
                   (G(x), G(y), G(x_p)), y_p's encoder pass without a graph
  train-reference  the reference's structure (Scenimefy semi_cut_model.py): G(x ‖ y), G(x_p), then
                   a separate encoder pass for G(x), x, G(y), y (HDCE / SRC) and for G(x_p), y_p
                   (StylePatchNCE): six encoder passes, every one with a graph

Both: D's LSGAN update on (y, G(x) detached), D_p's on (x_p ‖ y_p, x_p ‖ G(x_p) detached), then G,
F, F_s through the frozen discriminators with GAN + λ_HDCE·½(HDCE_x + HDCE_y) + λ_SRC·SRC +
λ_pair·(GAN_p + λ_s·StylePatchNCE). The positions are drawn per step with torch.randperm.

    build/sakuga bench train scenimefy --steps 10 --json s.json
    /usr/bin/python3 bench/torch_scenimefy_train.py --sakuga-json s.json

Differences from sakuga's step that remain: a constant lr (sakuga sets one scalar per step from
its schedule); on a GPU PyTorch's default TF32 flags are kept. On a GPU the peak memory of each
structure is printed (torch.cuda.max_memory_allocated). Give the same --threads as sakuga's run.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))

import torch  # noqa: E402

import twin  # noqa: E402
from cut_reference import (NLayerDiscriminator, PatchSampleF, ResnetGenerator, hdce, hdce_weights,  # noqa: E402
                           patch_nce, src)


def main():
    a = twin.parser(__doc__).parse_args()
    s, cfg, dev = twin.load(a)
    m, d, L = cfg["model"], cfg["data"], cfg["loss"]
    ngf, taps, P, tau = m["ngf"], m["taps"], m["patches"], L["tau"]
    B, S = d["batch"], d["size"] // 4 * 4
    G = ResnetGenerator(ngf, m["blocks"]).to(dev)
    D = NLayerDiscriminator(3, m["ndf"], m["d_layers"]).to(dev)
    D_p = NLayerDiscriminator(6, m["ndf"], m["d_layers"]).to(dev)
    with torch.no_grad():
        widths = [f.shape[1] for f in G(torch.zeros(1, 3, S, S, device=dev), taps)]
    F_, F_s = PatchSampleF(widths, m["nc"]).to(dev), PatchSampleF(widths, m["nc"]).to(dev)
    adam = lambda net: torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))  # noqa: E731
    oG, oD, oDp, oF, oFs = adam(G), adam(D), adam(D_p), adam(F_), adam(F_s)
    x, y, xp, yp = (torch.rand(B, 3, S, S, device=dev) * 2 - 1 for _ in range(4))
    gamma, lam_pair = 48.0, 1.0
    lam_s = L["style"] ** 2 if L["reference_weighting"] else L["style"]

    def ids_for(feats):
        return [torch.randperm(f.shape[2] * f.shape[3], device=dev)[:P] for f in feats]

    def per_image(rows):
        return [r.reshape(B, -1, r.shape[1]) for r in rows]

    def d_updates(fake_B, fake_p):
        oD.zero_grad()
        (0.5 * ((D(fake_B.detach()) ** 2).mean() + ((D(y) - 1) ** 2).mean())).backward()
        oD.step()
        oDp.zero_grad()
        (0.5 * ((D_p(torch.cat([xp, fake_p.detach()], 1)) ** 2).mean() +
                ((D_p(torch.cat([xp, yp], 1)) - 1) ** 2).mean())).backward()
        oDp.step()

    def g_update(fake_B, fake_p, feat_q, feat_k, idt_q, idt_k, style_q, style_k):
        T = len(taps)
        with twin.Frozen(D, D_p):
            g_gan = ((D(fake_B) - 1) ** 2).mean()
            pair_gan = ((D_p(torch.cat([xp, fake_p], 1)) - 1) ** 2).mean()
            hx = sum(hdce(q, k, hdce_weights(k, gamma), tau) for q, k in zip(feat_q, feat_k)) / T
            hy = sum(hdce(q, k, hdce_weights(k, gamma), tau) for q, k in zip(idt_q, idt_k)) / T
            l_src = sum(src(q, k) for q, k in zip(feat_q, feat_k)) / T
            l_style = sum(patch_nce(q, k, tau) for q, k in zip(style_q, style_k)) / T
            loss = (g_gan * L["gan"] + 0.5 * (hx + hy) * L["hdce"] + l_src * L["src"] +
                    (pair_gan * L["gan_pair"] + l_style * lam_s) * lam_pair)
            for o in (oG, oF, oFs):
                o.zero_grad()
            loss.backward()
            for o in (oG, oF, oFs):
                o.step()

    def reuse():  # sakuga's structure
        h, src_taps = torch.cat([x, y, xp]), []
        for i, layer in enumerate(G.model):
            h = layer(h)
            if i in taps:
                src_taps.append(h)
        fake = h
        fake_B, idt_B, fake_p = fake[:B], fake[B:2 * B], fake[2 * B:]
        d_updates(fake_B, fake_p)
        out_taps = G(fake, taps)
        with torch.no_grad():
            yp_taps = G(yp, taps)
        pos, spos = ids_for(src_taps), ids_for(yp_taps)
        with torch.no_grad():
            k_main = F_([t[:2 * B].detach() for t in src_taps], pos)
            k_style = per_image(F_s(yp_taps, spos))
        q_main = F_([t[:2 * B] for t in out_taps], pos)
        q_style = per_image(F_s([t[2 * B:] for t in out_taps], spos))
        half = lambda rows, w: [r.reshape(2, B, -1, r.shape[1])[w] for r in rows]  # noqa: E731
        g_update(fake_B, fake_p, half(q_main, 0), half(k_main, 0), half(q_main, 1), half(k_main, 1), q_style, k_style)

    def reference():  # the reference's structure: six encoder passes with graphs
        fake = G(torch.cat([x, y]))
        fake_B, idt_B = fake[:B], fake[B:]
        fake_p = G(xp)
        d_updates(fake_B, fake_p)
        fb = G(fake_B, taps)
        pos = ids_for(fb)
        feat_q, feat_k = per_image(F_(fb, pos)), [f.detach() for f in per_image(F_(G(x, taps), pos))]
        idt_q, idt_k = per_image(F_(G(idt_B, taps), pos)), [f.detach() for f in per_image(F_(G(y, taps), pos))]
        ky = G(yp, taps)
        spos = ids_for(ky)
        style_k = [f.detach() for f in per_image(F_s(ky, spos))]
        style_q = per_image(F_s(G(fake_p, taps), spos))
        g_update(fake_B, fake_p, feat_q, feat_k, idt_q, idt_k, style_q, style_k)

    n_steps, warmup = a.steps or s["steps"], a.warmup if a.warmup is not None else s["warmup"]
    stage_ms, peaks = {}, {}
    for name, fn in (("train", reuse), ("train-reference", reference)):
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        stage_ms[name] = twin.time_steps(fn, n_steps, warmup, dev)
        if dev.type == "cuda":
            peaks[name] = torch.cuda.max_memory_allocated()
    twin.report(a, "scenimefy", s, stage_ms, B, dev)
    sak = {st["stage"]: st for st in s.get("stages", [])}.get("train")
    if sak:
        r = stage_ms["train-reference"] / sak["ms_per_step"]
        print(f"reference structure (six encoder passes) / sakuga = {r:.2f}; reference / torch feature-reusing = "
              f"{stage_ms['train-reference'] / stage_ms['train']:.2f}")
    for name, b in peaks.items():
        print(f"torch peak memory [{name}]: {b / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
