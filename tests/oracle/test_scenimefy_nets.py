"""PyTorch oracle for scenimefy's networks (C++ side: tests/oracle_scenimefy_nets.cpp).

CUT's modules written out from their definitions (taesungp/contrastive-unpaired-translation
models/networks.py: ResnetGenerator with anti-aliased Downsample / Upsample, NLayerDiscriminator,
PatchSampleF), at small widths (ngf 4, ndf 4) but the real layout (9 blocks, the real layer
indices), random weights. Their state_dicts go to the C++ side, which must load them by name
(the filters `filt` are buffers in them), and give the same generator output, encoder taps
(layers 0, 4, 8, 12, 16), discriminator outputs (3 and 6 input channels), patch features at the
same positions, and the same gradients of the input and of every parameter.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


from cut_reference import (Downsample, NLayerDiscriminator, PatchSampleF, ResnetBlock,  # noqa: E402,F401
                           ResnetGenerator, Upsample, get_filter)


def randomize(net, scale):
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.randn_like(p) * (scale if name.endswith('weight') else 0.1))


def save_state(o, prefix, net):
    for k, v in net.state_dict().items():
        o.add(f"{prefix}.{k}", v.float().contiguous())


o = oracle.Oracle()
torch.manual_seed(0)
TAPS = [0, 4, 8, 12, 16]
ngf, nc, B, H, W = 4, 16, 2, 32, 24
G = ResnetGenerator(ngf).double()
randomize(G, 0.3)
D = NLayerDiscriminator(3, 4).double()
Dp = NLayerDiscriminator(6, 4).double()
randomize(D, 0.3)
randomize(Dp, 0.3)
x = torch.randn(B, 3, H, W).float()
xd = x.double().clone().requires_grad_(True)

# Generator output and taps; R-weighted sums give every gradient.
y = G(xd)
feats = G(xd, TAPS)
widths = [f.shape[1] for f in feats]
Fh = PatchSampleF(widths, nc).double()
randomize(Fh, 0.5)
ids = [torch.randperm(f.shape[2] * f.shape[3])[:min(10, f.shape[2] * f.shape[3])] for f in feats]
samples = Fh(feats, ids)
dout = D(y)
dpout = Dp(torch.cat([xd, y], 1))
r_y = torch.randn_like(y)
r_f = [torch.randn_like(f) for f in feats]
r_s = [torch.randn_like(s) for s in samples]
r_d, r_dp = torch.randn_like(dout), torch.randn_like(dpout)
total = (y * r_y).sum() + sum((f * r).sum() for f, r in zip(feats, r_f)) + sum((s * r).sum() for s, r in zip(samples, r_s))
total = total + (dout * r_d).sum() + (dpout * r_dp).sum()
total.backward()

save_state(o, "G", G)
save_state(o, "D", D)
save_state(o, "Dp", Dp)
save_state(o, "F", Fh)
o.add("x", x)
o.add("y", y.detach().float())
o.add("r_y", r_y.float())
o.add("gx", xd.grad.float())
o.add("d", dout.detach().float())
o.add("r_d", r_d.float())
o.add("dp", dpout.detach().float())
o.add("r_dp", r_dp.float())
for i, (f, s) in enumerate(zip(feats, samples)):
    o.add(f"tap{i}", f.detach().float())
    o.add(f"r_tap{i}", r_f[i].float())
    o.add(f"ids{i}", ids[i].int())
    o.add(f"feat{i}", s.detach().float())
    o.add(f"r_feat{i}", r_s[i].float())
for prefix, net in (("G", G), ("D", D), ("Dp", Dp), ("F", Fh)):
    for k, p in net.named_parameters():
        o.add(f"grad.{prefix}.{k}", p.grad.float())
# The converter: a DataParallel-style .pth of the generator (f32), converted by tools/convert_cut.py;
# the C++ side loads the result into a fresh generator by name and must give G(x) again.
import copy  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

tmp = tempfile.mkdtemp()
pth, converted = os.path.join(tmp, "latest_net_G.pth"), os.path.join(tmp, "G.safetensors")
torch.save({"module." + k: v for k, v in copy.deepcopy(G).float().state_dict().items()}, pth)
tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "convert_cut.py")
subprocess.run([sys.executable, tool, pth, converted], check=True)
o.meta("config", {"ngf": ngf, "nc": nc, "taps": TAPS, "ndf": 4, "converted": converted})


def check_infer():
    """`sakuga infer scenimefy` on the converted file (ngf and blocks read from its shapes), for a
    30×26 photo: reflect-padded to 32×28, G, cropped back; within 8-bit rounding of PyTorch's."""
    from PIL import Image
    import numpy as np
    photo, out_dir = os.path.join(tmp, "photo.png"), os.path.join(tmp, "out")
    img = (torch.rand(30, 26, 3) * 255).round().to(torch.uint8)
    Image.fromarray(img.numpy()).save(photo)
    r = subprocess.run([o.args.sakuga, "infer", "scenimefy", "--ckpt", converted, "--input", photo, "--out", out_dir,
                        "--device", "cpu"], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        return False
    got = torch.from_numpy(np.array(Image.open(os.path.join(out_dir, "photo.anime.png")).convert("RGB"))).double()
    x = img.permute(2, 0, 1).double()[None] / 255 * 2 - 1
    with torch.no_grad():
        y = G(F.pad(x, (0, 2, 0, 2), mode="reflect"))[0, :, :30, :26]
    want = ((y + 1) / 2).clamp(0, 1).permute(1, 2, 0) * 255
    err = (got - want).abs().max().item()
    print(f"infer scenimefy on the converted generator, 30x26: max |sakuga - torch| {err:.3f} / 255")
    for f in (photo, os.path.join(out_dir, "photo.anime.png")):
        os.unlink(f)
    os.rmdir(out_dir)
    return err <= 0.6  # both round the same value to 8 bits; f32 vs f64 may straddle a half


try:
    if o.args.sakuga is not None and not check_infer():
        print("FAIL infer scenimefy differs from PyTorch")
        sys.exit(1)
    o.run("oracle_scenimefy_nets")
finally:
    for f in (pth, converted):
        if os.path.exists(f):
            os.unlink(f)
    os.rmdir(tmp)
