"""Oracle: the GCN head of shared/specs/gcn.md written in PyTorch (same module names, so its
state_dict loads by name into sakuga's nets/gcn GcnHead) gives the same logits, parameter
gradients and feature gradients for loss = sum(out * R). Reference computed in float64."""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402


class GlobalConv(nn.Module):
    def __init__(self, cin, c, k):
        super().__init__()
        p = k // 2
        self.l1 = nn.Conv2d(cin, c, (k, 1), padding=(p, 0))
        self.l2 = nn.Conv2d(c, c, (1, k), padding=(0, p))
        self.r1 = nn.Conv2d(cin, c, (1, k), padding=(0, p))
        self.r2 = nn.Conv2d(c, c, (k, 1), padding=(p, 0))

    def forward(self, x):
        return self.l2(self.l1(x)) + self.r2(self.r1(x))


class BoundaryRefine(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class GcnHead(nn.Module):
    def __init__(self, channels, c, k, p=0.0):
        super().__init__()
        self.p = p
        for i, ch in enumerate(channels):
            setattr(self, f"gcn{i + 1}", GlobalConv(ch, c, k))
        for j in range(1, 10):
            setattr(self, f"br{j}", BoundaryRefine(c))

    @staticmethod
    def up(x, size):
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    def forward(self, f, H, W):
        d = [F.dropout(x, self.p, self.training) for x in f]
        g4 = self.br1(self.gcn4(d[3]))
        g3 = self.br2(self.gcn3(d[2]))
        g2 = self.br3(self.gcn2(d[1]))
        g1 = self.br4(self.gcn1(d[0]))
        s3 = self.br5(self.up(g4, g3.shape[2:]) + g3)
        s2 = self.br6(self.up(s3, g2.shape[2:]) + g2)
        s1 = self.br7(self.up(s2, g1.shape[2:]) + g1)
        s0 = self.br8(self.up(s1, (math.ceil(H / 2), math.ceil(W / 2))))
        return self.br9(self.up(s0, (H, W)))


def feature_shapes(channels, n, H, W):
    shapes, h, w = [], H, W
    for i, ch in enumerate(channels):
        s = 4 if i == 0 else 2
        h, w = -(-h // s), -(-w // s)
        shapes.append((n, ch, h, w))
    return shapes


# (N, C, k, H, W): the brief's C ∈ {10, 1} × k ∈ {7, 25} at 97×130, plus the minimum size 64×64.
CASES = [(2, 10, 7, 97, 130), (2, 1, 25, 97, 130), (2, 10, 25, 97, 130), (2, 1, 7, 97, 130), (1, 10, 7, 64, 64)]
CHANNELS = (16, 32, 64, 128)


def main():
    o = oracle.Oracle()
    o.meta("cases", [list(c) for c in CASES])
    o.meta("channels", list(CHANNELS))
    for ci, (n, c, k, H, W) in enumerate(CASES):
        name = f"c{ci}"
        m = GcnHead(CHANNELS, c, k)  # PyTorch's default Conv2d init: random weights and biases
        for key, v in m.state_dict().items():
            o.add(f"{name}.sd.{key}", v.clone())
        feats = [torch.randn(*s) for s in feature_shapes(CHANNELS, n, H, W)]
        for i, x in enumerate(feats):
            o.add(f"{name}.f{i + 1}", x)
        m = m.double()
        m.train()  # p = 0: dropout is the identity either way
        fs = [x.double().requires_grad_(True) for x in feats]
        out = m(fs, H, W)
        assert tuple(out.shape) == (n, c, H, W)
        r = torch.randn(out.shape)
        (out * r.double()).sum().backward()
        o.add(f"{name}.r", r)
        o.add(f"{name}.out", out.detach().float())
        for i, x in enumerate(fs):
            o.add(f"{name}.grad.f{i + 1}", x.grad.float())
        for key, p in m.named_parameters():
            o.add(f"{name}.grad.{key}", p.grad.float())
    o.run("oracle_gcn_head")


if __name__ == "__main__":
    main()
