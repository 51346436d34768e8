"""Oracle: a torch nn.Sequential's state_dict loaded by name into the sakuga equivalent gives
the same outputs, input and parameter gradients and running statistics, in train and eval."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402


def models():
    # c0: the brief's Conv2d, BatchNorm2d, ReLU, Conv2d.
    m0 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                       nn.Conv2d(8, 4, 3, stride=2, padding=1))
    # c1: ConvTranspose2d, InstanceNorm2d(affine), LeakyReLU, reflect-padded Conv2d, Tanh.
    m1 = nn.Sequential(nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1), nn.InstanceNorm2d(4, affine=True),
                       nn.LeakyReLU(0.2), nn.Conv2d(4, 2, 3, padding=1, padding_mode="reflect", bias=False),
                       nn.Tanh())
    # c2: BatchNorm2d without affine, momentum 0.3; Linear-free PReLU; Sigmoid.
    m2 = nn.Sequential(nn.Conv2d(2, 6, (1, 5), padding=(0, 2), bias=False), nn.BatchNorm2d(6, momentum=0.3, affine=False),
                       nn.PReLU(6), nn.Conv2d(6, 3, (5, 1), padding=(2, 0)), nn.Sigmoid())
    return [(m0, (2, 3, 9, 9)), (m1, (2, 3, 5, 6)), (m2, (3, 2, 7, 8))]


def main():
    o = oracle.Oracle()
    ms = models()
    o.meta("cases", len(ms))
    for ci, (m, shape) in enumerate(ms):
        c = f"c{ci}"
        with torch.no_grad():
            for p in m.parameters():  # non-default values everywhere
                p.add_(torch.randn_like(p) * 0.1)
        # Move the BN running statistics away from their defaults before saving.
        m.train()
        with torch.no_grad():
            m(torch.randn(*shape) * 2 + 1)
        for k, v in m.state_dict().items():
            o.add(f"{c}.sd.{k}", v.clone())
        x = torch.randn(*shape)
        o.add(f"{c}.x", x)
        for mode in ("train", "eval"):
            m.train(mode == "train")
            m.zero_grad()
            xi = x.clone().requires_grad_(True)
            out = m(xi)
            r = torch.randn_like(out)
            (out * r).sum().backward()
            o.add(f"{c}.{mode}.r", r)
            o.add(f"{c}.{mode}.out", out.detach())
            o.add(f"{c}.{mode}.gx", xi.grad)
            for k, p in m.named_parameters():
                o.add(f"{c}.{mode}.grad.{k}", p.grad.clone())
            for k, b in m.named_buffers():
                o.add(f"{c}.{mode}.buf.{k}", b.clone())
    o.run("oracle_layers")


if __name__ == "__main__":
    main()
