"""Oracle: the whole GCN network (ImageNet normalisation, torchvision ResNet backbone under
`backbone.`, GCN head at the top level) in PyTorch with the same weights as sakuga's GcnNet:
eval-mode logits on an odd frame size, and train-mode gradients of every parameter (Cin = 4)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

from test_gcn_head import GcnHead  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class GcnNet(GcnHead):
    def __init__(self, depth, classes, k, in_channels):
        bb = getattr(torchvision.models, f"resnet{depth}")(weights=None)
        chans = [64, 128, 256, 512] if depth < 50 else [256, 512, 1024, 2048]
        super().__init__(chans, classes, k)
        if in_channels == 4:
            bb.conv1 = nn.Conv2d(4, 64, 7, 2, 3, bias=False)
        bb.fc = nn.Identity()
        self.backbone = bb

    def forward(self, x):
        H, W = x.shape[2:]
        rgb = (x[:, :3] - MEAN.to(x)) / STD.to(x)  # x's dtype and device (bench/torch_gcn_train.py runs on CUDA)
        x = torch.cat([rgb, x[:, 3:]], 1)
        b = self.backbone
        h = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        f1 = b.layer1(h)
        f2 = b.layer2(f1)
        f3 = b.layer3(f2)
        f4 = b.layer4(f3)
        return super().forward([f1, f2, f3, f4], H, W)


def randomise_bn(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)


# name, depth, classes, k, in_channels, batch, H, W, mode
CASES = [
    ("eval_r18_c10_k7", 18, 10, 7, 3, 1, 97, 130, "eval"),
    ("train_r18_c1_k7_cin4", 18, 1, 7, 4, 2, 64, 80, "train"),
    # A full-HD frame with the douga kernel size: 1080 is not a multiple of 32 (f4 is 34x60).
    ("eval_r18_c10_k49_1080p", 18, 10, 49, 3, 1, 1080, 1920, "eval"),
]


def main():
    o = oracle.Oracle()
    o.meta("cases", [c[0] for c in CASES])
    for name, depth, classes, k, cin, n, H, W, mode in CASES:
        o.meta(name, {"depth": depth, "classes": classes, "k": k, "in_channels": cin, "mode": mode})
        m = GcnNet(depth, classes, k, cin)
        randomise_bn(m)
        for key, v in m.state_dict().items():
            o.add(f"{name}.sd.{key}", v.clone())
        x = torch.rand(n, cin, H, W)
        if cin == 4:
            x[:, 3] = (x[:, 3] > 0.5).float()  # a cel mask
        o.add(f"{name}.x", x)
        m = m.double()
        m.train(mode == "train")
        out = m(x.double())
        o.add(f"{name}.out", out.detach().float())
        if mode == "train":
            r = torch.randn(out.shape)
            (out * r.double()).sum().backward()
            o.add(f"{name}.r", r)
            for key, p in m.named_parameters():
                o.add(f"{name}.grad.{key}", p.grad.float())
    o.run("oracle_gcn_model")


if __name__ == "__main__":
    main()
