"""Oracle: the GADN networks of shared/specs/gadn.md written in PyTorch with the same module
names as nets/gadn/networks.h, given the same weights, give the same outputs and the same
gradients with respect to the input and every parameter (loss = Σ out·R), in float64.

The weights are not shipped: both sides fill every parameter from a hash of its name and
element index (hash_values below, tests/oracle_gadn_nets.cpp hash_fill), then rescale each
conv / linear output filter to unit norm (×2 for the transposed convs) as the spec's init does,
so the paper's 256-px networks (~80M parameters each) need no weight file.

Cases: the 32-px default (Fashion-MNIST × artists), a 32-px narrow one with the alpha channel,
a 64-px narrow one with equal-width levels (blocks without shortcut convs), all with every
gradient; the 256-px Table 1 networks at batch 1, outputs only."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

M32 = 0xFFFFFFFF


def fnv1a(s):
    h = 2166136261
    for c in s.encode():
        h ^= c
        h = (h * 16777619) & M32
    return h


def mix32_(x):
    """In place (the 256-px Linear has 33M entries: temporaries are costly). x: int64 values
    < 2^32; constants < 2^31 keep every product below 2^63."""
    for _ in range(2):
        x.bitwise_xor_(x >> 16).mul_(0x45D9F3B).bitwise_and_(M32)
    return x.bitwise_xor_(x >> 16)


def hash_values(name, shape):
    n = 1
    for s in shape:
        n *= s
    h = mix32_(torch.arange(n, dtype=torch.int64).add_(fnv1a(name)).bitwise_and_(M32))
    return h.double().div_(2.0**32).sub_(0.5).reshape(shape)


def hash_fill(model):
    for mname, mod in model.named_modules():
        for pname, p in mod.named_parameters(recurse=False):
            full = f"{mname}.{pname}" if mname else pname
            v = hash_values(full, tuple(p.shape))
            if pname == "bias":
                v = 0.2 * v
            elif pname == "weight":
                if isinstance(mod, nn.ConvTranspose2d):  # filters along dim 1, norm 2
                    v = v / (v.pow(2).sum((0, 2, 3), keepdim=True) + 1e-8).sqrt() * 2.0
                else:
                    dims = tuple(range(1, v.dim()))
                    v = v / (v.pow(2).sum(dims, keepdim=True) + 1e-8).sqrt()
            with torch.no_grad():
                p.copy_(v)


class DownBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 6, 2, 2)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        s = F.avg_pool2d(x, 2)
        if self.shortcut is not None:
            s = self.shortcut(s)
        return s + F.relu(self.conv(x))


class SameBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return x + F.relu(self.conv(x))


class UpBlock(nn.Module):
    def __init__(self, cin, cout, relu=True):
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 6, 2, 2)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.relu = relu

    def forward(self, x):
        s = self.shortcut(x) if self.shortcut is not None else x
        s = F.interpolate(s, scale_factor=2, mode="nearest")
        b = self.conv(x)
        return s + (F.relu(b) if self.relu else b)


class Body(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        cin = 4 if cfg["alpha"] else 3
        levels = []
        for c in cfg["channels"]:
            levels.append(nn.Sequential(DownBlock(cin, c), SameBlock(c)))
            cin = c
        self.levels = nn.Sequential(*levels)
        self.fc = nn.Linear(cin * 16, cfg["fc"])

    def forward(self, x):
        return F.relu(self.fc(self.levels(x).flatten(1)))


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.body = Body(cfg)
        self.mu = nn.Linear(cfg["fc"], cfg["z"])
        self.sigma = nn.Linear(cfg["fc"], cfg["z"])

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), F.softplus(self.sigma(h))


class Discriminator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.body = Body(cfg)
        self.head = nn.Linear(cfg["fc"], 1)

    def forward(self, x):
        return self.head(self.body(x)).squeeze(1)


class Classifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.body = Body(cfg)
        self.head = nn.Linear(cfg["fc"], cfg["labels"])

    def forward(self, x):
        return F.log_softmax(self.head(self.body(x)), 1)


class ImageGenerator(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch = cfg["channels"]
        self.top = ch[-1]
        self.fc1 = nn.Linear(cfg["z"] + cfg["zs"], cfg["fc"])
        self.fc2 = nn.Linear(cfg["fc"], self.top * 16)
        levels = []
        for l in range(len(ch) - 1, -1, -1):
            nxt = ch[l - 1] if l > 0 else 3
            levels.append(nn.Sequential(SameBlock(ch[l]), UpBlock(ch[l], nxt, relu=l > 0)))
        self.levels = nn.Sequential(*levels)

    def forward(self, code):
        h = F.relu(self.fc2(F.relu(self.fc1(code))))
        return torch.tanh(self.levels(h.view(code.size(0), self.top, 4, 4)))


class StyleBank(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.mean = nn.Parameter(torch.zeros(cfg["labels"], cfg["zs"]))
        self.pstd = nn.Parameter(torch.zeros(cfg["labels"], cfg["zs"]))

    def forward(self, labels):
        return self.mean[labels], F.softplus(self.pstd[labels])


def image_channels(cfg):
    return 4 if cfg["alpha"] else 3


CASES = [
    # name, config, batch, gradients
    ("small", dict(size=32, channels=[64, 128, 256], fc=512, z=64, zs=10, labels=10, alpha=False), 2, True),
    ("alpha", dict(size=32, channels=[8, 16, 32], fc=64, z=8, zs=4, labels=5, alpha=True), 3, True),
    ("narrow64", dict(size=64, channels=[8, 8, 16, 32], fc=32, z=16, zs=8, labels=6, alpha=False), 2, True),
    ("paper256", dict(size=256, channels=[32, 64, 128, 256, 512, 1024], fc=2048, z=256, zs=256, labels=20,
                      alpha=False), 1, False),
]


def run_net(o, prefix, net, inputs, grads):
    """Outputs of net(*inputs) (a tensor or a tuple), Σ out·R backward, everything stored."""
    net = net.double()
    hash_fill(net)
    xs = [x.double().requires_grad_(grads) if x.is_floating_point() else x for x in inputs]
    outs = net(*xs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    total = 0
    for i, out in enumerate(outs):
        r = torch.randn(out.shape)
        o.add(f"{prefix}.r{i}", r)
        o.add(f"{prefix}.out{i}", out.detach().float())
        total = total + (out * r.double()).sum()
    if not grads:
        return
    total.backward()
    for i, x in enumerate(xs):
        if x.requires_grad:
            o.add(f"{prefix}.grad.in{i}", x.grad.float())
    for key, p in net.named_parameters():
        o.add(f"{prefix}.grad.{key}", p.grad.float())


def main():
    o = oracle.Oracle()
    o.meta("cases", [name for name, _, _, _ in CASES])
    for name, cfg, batch, grads in CASES:
        o.meta(name, dict(cfg, batch=batch, grads=grads))
        R = cfg["size"]
        x = torch.rand(batch, image_channels(cfg), R, R) * 2 - 1
        code = torch.randn(batch, cfg["z"] + cfg["zs"])
        labels = torch.randint(0, cfg["labels"], (batch + 2,), dtype=torch.int32)
        labels[-1] = labels[0]  # a repeated label: its rows' gradients add up
        o.add(f"{name}.x", x)
        o.add(f"{name}.code", code)
        o.add(f"{name}.labels", labels)
        run_net(o, f"{name}.E", Encoder(cfg), [x], grads)
        run_net(o, f"{name}.D", Discriminator(cfg), [x], grads)
        run_net(o, f"{name}.C", Classifier(cfg), [x], grads)
        run_net(o, f"{name}.G", ImageGenerator(cfg), [code], grads)
        run_net(o, f"{name}.S", StyleBank(cfg), [labels.long()], grads)
    o.run("oracle_gadn_nets")


if __name__ == "__main__":
    main()
