"""PyTorch twins of the redrawer's networks and losses (nets/redraw/redrawer_nets.h and
redrawer.h): the parameter names of sakuga's modules, so a sakuga state dict loads by name.
Used by tests/oracle/test_redraw_train.py and bench/torch_redraw_train.py.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def block(cin, cout, k, s, p, slope, norm=True):
    layers = [nn.Conv2d(cin, cout, k, s, p)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout))
    layers.append(nn.LeakyReLU(slope) if slope > 0 else nn.ReLU())
    return nn.Sequential(*layers)


def width(c, i):
    return c * min(2 ** i, 8)


class Generator(nn.Module):
    def __init__(self, c, L):
        super().__init__()
        self.L = L
        self.inc = block(7, c, 3, 1, 1, 0.2)
        for i in range(1, L + 1):
            setattr(self, f"down{i}", block(width(c, i - 1), width(c, i), 4, 2, 1, 0.2))
        self.guide = nn.Sequential(block(3, c, 3, 1, 1, 0.2),
                                   *[block(width(c, i - 1), width(c, i), 4, 2, 1, 0.2) for i in range(1, L + 1)])
        self.fuse = block(2 * width(c, L), width(c, L), 1, 1, 0, 0)
        for i in range(1, L + 1):
            setattr(self, f"up{i}", block(width(c, i) + width(c, i - 1), width(c, i - 1), 3, 1, 1, 0))
        self.out = nn.Sequential(nn.Conv2d(c, 3, 1), nn.Sigmoid())

    def forward(self, l, h, m):
        skips = [self.inc(torch.cat([l * (1 - m), l, m], 1))]
        for i in range(1, self.L + 1):
            skips.append(getattr(self, f"down{i}")(skips[-1]))
        y = self.fuse(torch.cat([skips[-1], self.guide(h)], 1))
        for i in range(self.L, 0, -1):
            skip = skips[i - 1]
            y = F.interpolate(y, size=skip.shape[2:], mode="nearest")
            y = getattr(self, f"up{i}")(torch.cat([y, skip], 1))
        return self.out(y)


class PatchClassifier(nn.Module):
    def __init__(self, cin, classes, d, layers):
        super().__init__()
        mods = [block(cin, d, 4, 2, 1, 0.2, norm=False)]
        mods += [block(width(d, n - 1), width(d, n), 4, 2, 1, 0.2) for n in range(1, layers)]
        mods += [block(width(d, layers - 1), width(d, layers), 4, 1, 1, 0.2), nn.Conv2d(width(d, layers), classes, 4, 1, 1)]
        self.model = nn.Sequential(*mods)

    def forward(self, x):
        return self.model(x)


def lowpass(x, sigma):
    r = math.ceil(3 * sigma)
    k = torch.tensor([math.exp(-0.5 * i * i / (sigma * sigma)) for i in range(-r, r + 1)], dtype=torch.float64)
    k = (k / k.sum()).to(x.dtype)
    ch = x.shape[1]
    y = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1).repeat(ch, 1, 1, 1), groups=ch)
    return F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1).repeat(ch, 1, 1, 1), groups=ch)


def region_l1(a, b, w):
    return (a - b).abs().mul(w).sum() / (w.sum().clamp_min(1.0) * a.shape[1])


def patch_ce(logits, labels):
    B, _, h, w = logits.shape
    return F.cross_entropy(logits, labels.long().view(B, 1, 1).expand(B, h, w))
