"""PyTorch twin of `sakuga bench train fashion-mnist`: the same CNN (nets/fmnist/model.h), cross
entropy and optimiser on random batches of the config's size (timing does not depend on values).

    build/sakuga bench train fashion-mnist --steps 50 --json s.json
    python3 bench/torch_fmnist_train.py --sakuga-json s.json
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import twin


class FashionNet(nn.Module):
    def __init__(self, c1, c2, hidden, dropout):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1)
        self.conv2, self.bn2 = nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2)
        self.fc1, self.drop, self.fc2 = nn.Linear(c2 * 49, hidden), nn.Dropout(dropout), nn.Linear(hidden, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return self.fc2(self.drop(F.relu(self.fc1(x.flatten(1)))))


def optimizer(t, params):
    if t["optimizer"] in ("adam", "adamw"):
        cls = torch.optim.Adam if t["optimizer"] == "adam" else torch.optim.AdamW
        return cls(params, lr=t["lr"], weight_decay=t["weight_decay"])
    if t["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=t["lr"], momentum=t["momentum"], weight_decay=t["weight_decay"])
    return torch.optim.RMSprop(params, lr=t["lr"], weight_decay=t["weight_decay"])


def main():
    a = twin.parser(__doc__).parse_args()
    s, cfg, dev = twin.load(a)
    m, n = cfg["model"], cfg["data"]["batch"]
    net = FashionNet(m["c1"], m["c2"], m["hidden"], m["dropout"]).to(dev).train()
    opt = optimizer(cfg["train"], net.parameters())
    x, y = torch.rand(n, 1, 28, 28, device=dev), torch.randint(0, 10, (n,), device=dev)

    def step():
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    ms = twin.time_steps(step, a.steps or s["steps"], a.warmup if a.warmup is not None else s["warmup"], dev)
    twin.report(a, "fashion-mnist", s, {"train": ms}, n, dev)


if __name__ == "__main__":
    main()
