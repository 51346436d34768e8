"""PyTorch oracle for the triplet loss (losses/triplet.h; C++ side: tests/oracle_triplet.cpp).

Every case stores raw rows x (N, D) and their labels; the reference is
torch.nn.TripletMarginLoss(margin, p=2) on F.normalize(x): for "hard" mining on the anchors that
have a positive and a negative, each with its farthest positive and closest negative (picked
with the same pairwise distances, torch.nn.functional.pairwise_distance); for "all" on every
(anchor, positive, negative) triplet. The C++ case recomputes the loss and d loss / dx (f32,
CPU) and requires a relative error <= 1e-4.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

o = oracle.Oracle()
cases = []


def reference(e, labels, margin, mining):
    n = e.shape[0]
    loss = torch.nn.TripletMarginLoss(margin=margin, p=2)
    d = torch.stack([F.pairwise_distance(e[i].expand(n, -1), e) for i in range(n)]).detach()
    a, p, q = [], [], []
    for i in range(n):
        pos = [j for j in range(n) if j != i and labels[j] == labels[i]]
        neg = [j for j in range(n) if labels[j] != labels[i]]
        if not pos or not neg:
            continue
        if mining == "hard":
            a.append(i)
            p.append(max(pos, key=lambda j: (d[i, j].item(), -j)))
            q.append(min(neg, key=lambda j: (d[i, j].item(), j)))
        else:
            for j in pos:
                for k in neg:
                    a.append(i)
                    p.append(j)
                    q.append(k)
    return loss(e[a], e[p], e[q])


def add(n, dim, labels, margin, mining):
    name = f"c{len(cases)}"
    x = (torch.randn(n, dim) * 1.5).requires_grad_(True)
    y = reference(F.normalize(x, dim=1), labels, margin, mining)
    y.backward()
    o.add(f"{name}.x", x.detach())
    o.add(f"{name}.y", y.detach().reshape(1))
    o.add(f"{name}.gx", x.grad)
    o.meta(name, {"labels": labels, "margin": margin, "mining": mining})
    cases.append(name)


for mining in ("hard", "all"):
    add(8, 16, [0, 0, 1, 1, 2, 2, 3, 3], 0.2, mining)                     # designs x 2 samples
    add(12, 128, [0, 1, 2] * 4, 0.2, mining)                              # interleaved, the pinned width
    add(10, 5, [0, 0, 0, 1, 1, 2, 2, 2, 2, 3], 0.5, mining)               # label 3 has no positive
    add(6, 3, [5, 5, 9, 9, 9, 5], 1.0, mining)                            # a large margin: every triplet active

o.meta("cases", cases)
o.run("oracle_triplet")
