"""PyTorch / numpy oracle for the redraw detector's targets and losses (C++ side:
tests/oracle_redraw_detect.cpp), written as CenterNet (xingyizhou/CenterNet, ctdet) writes them:

  targets   gaussian_radius((ceil(h), ceil(w)), 0.7), draw_umich_gaussian at the integer centre
            cell, wh and reg at that cell, on the stride-4 grid (the size target as log(w), log(h):
            ours, see docs/redraw.md)
  focal     _neg_loss: -(sum(log(p)(1-p)^2 [gt == 1]) + sum(log(1-p) p^2 (1-gt)^4 [gt < 1])) / num_pos
  L1        RegL1Loss on dense maps: sum(|pred - target| * mask) / (2 * sum(mask) + 1e-4)

Every case stores the boxes (rows: frame, kind, x0, y0, x1, y1 in input pixels), the targets, random
heads and the loss with its gradients, computed in f64 from the f32 heads. The C++ side rebuilds
the targets (max error 1e-6) and the loss and gradients (relative error 1e-4).
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

STRIDE = 4


def gaussian_radius(det_size, min_overlap=0.7):
    height, width = det_size
    a1 = 1
    b1 = (height + width)
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + np.sqrt(b1 ** 2 - 4 * a1 * c1)) / 2
    a2 = 4
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + np.sqrt(b2 ** 2 - 4 * a2 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + np.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def gaussian2D(shape, sigma=1):
    m, n = [(ss - 1.) / 2. for ss in shape]
    y, x = np.ogrid[-m:m + 1, -n:n + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return h


def draw_umich_gaussian(heatmap, center, radius, k=1):
    diameter = 2 * radius + 1
    gaussian = gaussian2D((diameter, diameter), sigma=diameter / 6)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape[0:2]
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    masked_heatmap = heatmap[y - top:y + bottom, x - left:x + right]
    masked_gaussian = gaussian[radius - top:radius + bottom, radius - left:radius + right]
    if min(masked_gaussian.shape) > 0 and min(masked_heatmap.shape) > 0:
        np.maximum(masked_heatmap, masked_gaussian * k, out=masked_heatmap)
    return heatmap


def targets(boxes, n, H, W):
    h, w = H // STRIDE, W // STRIDE
    hm = np.zeros((n, 2, h, w), np.float32)
    wh = np.zeros((n, 2, h, w), np.float32)
    reg = np.zeros((n, 2, h, w), np.float32)
    mask = np.zeros((n, 1, h, w), np.float32)
    for f, kind, x0, y0, x1, y1 in boxes:
        f, kind = int(f), int(kind)
        if f < 0:  # the placeholder row of a case without boxes
            continue
        bw, bh = (x1 - x0) / STRIDE, (y1 - y0) / STRIDE
        ct = np.array([(x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE])
        ct_int = ct.astype(np.int32)
        radius = max(0, int(gaussian_radius((math.ceil(bh), math.ceil(bw)))))
        draw_umich_gaussian(hm[f, kind], ct_int, radius)
        wh[f, :, ct_int[1], ct_int[0]] = [math.log(bw), math.log(bh)]
        reg[f, :, ct_int[1], ct_int[0]] = ct - ct_int
        mask[f, 0, ct_int[1], ct_int[0]] = 1
    return hm, wh, reg, mask


def neg_loss(logits, gt):
    pred = logits.sigmoid()
    pos_inds = gt.eq(1).double()
    neg_inds = gt.lt(1).double()
    neg_weights = torch.pow(1 - gt, 4)
    pos_loss = (torch.log(pred) * torch.pow(1 - pred, 2) * pos_inds).sum()
    neg_loss = (torch.log(1 - pred) * torch.pow(pred, 2) * neg_weights * neg_inds).sum()
    num_pos = pos_inds.sum()
    if num_pos == 0:
        return -neg_loss
    return -(pos_loss + neg_loss) / num_pos


def reg_l1(pred, target, mask):
    m = mask.expand_as(pred)
    return F.l1_loss(pred * m, target * m, reduction="sum") / (m.sum() + 1e-4)


o = oracle.Oracle()
cases = []
rng = np.random.default_rng(0)


def add(n, H, W, nboxes, weights, scale):
    name = f"c{len(cases)}"
    rows = []
    for _ in range(nboxes):
        f = int(rng.integers(0, n))
        kind = int(rng.integers(0, 2))
        bw = float(rng.uniform(3, W * 0.6))
        bh = float(rng.uniform(3, H * 0.6))
        x0 = float(rng.uniform(0, W - bw))
        y0 = float(rng.uniform(0, H - bh))
        rows.append([f, kind, round(x0, 2), round(y0, 2), round(x0 + bw, 2), round(y0 + bh, 2)])
    if not rows:
        rows = [[-1, 0, 0, 0, 1, 1]]
    # The boxes as the C++ side reads them (f32), in f64 arithmetic on both sides.
    rows = np.array(rows, np.float32).astype(np.float64).tolist()
    hm, wh, reg, mask = targets(rows, n, H, W)
    h, w = H // STRIDE, W // STRIDE
    heads = [torch.randn(n, 2, h, w) * scale for _ in range(3)]
    x = [t.double().clone().requires_grad_(True) for t in heads]
    gt = torch.from_numpy(hm).double()
    lh = neg_loss(x[0], gt)
    ls = reg_l1(x[1], torch.from_numpy(wh).double(), torch.from_numpy(mask).double())
    lo = reg_l1(x[2], torch.from_numpy(reg).double(), torch.from_numpy(mask).double())
    total = weights[0] * lh + weights[1] * ls + weights[2] * lo
    total.backward()
    o.add(f"{name}.boxes", torch.tensor(rows, dtype=torch.float32))
    for k, v in (("heat", hm), ("size", wh), ("offset", reg), ("mask", mask)):
        o.add(f"{name}.t_{k}", torch.from_numpy(v))
    for k, t, xx in zip(("heat", "size", "offset"), heads, x):
        o.add(f"{name}.x_{k}", t.float())
        o.add(f"{name}.g_{k}", xx.grad.float())
    o.add(f"{name}.losses", torch.tensor([total.item(), lh.item(), ls.item(), lo.item()], dtype=torch.float32))
    o.meta(name, {"n": n, "H": H, "W": W, "weights": list(weights)})
    cases.append(name)


add(1, 64, 64, 3, (1.0, 1.0, 1.0), 2.0)
add(2, 64, 96, 7, (1.0, 0.1, 1.0), 3.0)
add(3, 128, 128, 12, (1.0, 1.0, 1.0), 1.0)
add(2, 32, 64, 0, (1.0, 1.0, 1.0), 2.0)  # no boxes: the focal loss of the negatives alone

o.meta("cases", cases)
o.run("oracle_redraw_detect")
