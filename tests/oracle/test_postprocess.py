"""OpenCV oracle for the douga post-processing (C++ side: tests/oracle_postprocess.cpp).

Zhang–Suen thinning: sakuga's zhang_suen_thin (pixels outside the image count as 0) must equal
cv2.ximgproc.thinning(THINNING_ZHANGSUEN) exactly on images with a 1-pixel empty border. OpenCV
never deletes pixels of the outermost rows and columns (its loops run over 1..rows-2 and
1..cols-2; those pixels still serve as neighbours), so without the empty border the two differ;
it also expects 0/255 input (it divides by 255 with rounding, so 1 would read as 0).

4-connected components: cv2.connectedComponents(connectivity=4) relabelled canonically (each
component takes the smallest linear index of its pixels, background -1) must equal sakuga's
labels exactly, which compares the partitions.

Images: thresholded blurred uniform noise (blobs of several scales and densities) and random
thick strokes (line-art-like), sizes 97x130, 64x64 and a few odd ones.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

try:
    import cv2  # noqa: E402
    import cv2.ximgproc  # noqa: E402,F401
except ImportError:
    print("cv2 with ximgproc not importable: oracle test skipped")
    sys.exit(77)
import numpy as np  # noqa: E402
import torch  # noqa: E402

o = oracle.Oracle()
rng = np.random.default_rng(1234)
cases = []


def blobs(h, w, ksize, quantile):
    noise = rng.random((h, w)).astype(np.float32)
    b = cv2.GaussianBlur(noise, (ksize, ksize), 0)
    return (b > np.quantile(b, quantile)).astype(np.uint8)


def strokes(h, w, n):
    img = np.zeros((h, w), np.uint8)
    for _ in range(n):
        p0 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(img, p0, p1, 1, int(rng.integers(1, 7)))
    for _ in range(n // 2):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(img, c, int(rng.integers(2, 12)), 1, -1 if rng.random() < 0.5 else int(rng.integers(1, 5)))
    return img


def canonical_labels(mask):
    n, lab = cv2.connectedComponents(mask, connectivity=4, ltype=cv2.CV_32S)
    flat = lab.ravel()
    out = np.full(flat.shape, -1, np.int32)
    idx = np.arange(flat.size)
    for k in range(1, n):
        sel = flat == k
        out[sel] = idx[sel].min()
    return out.reshape(mask.shape), n - 1


def add(img, kind):
    img = img.copy()
    img[0, :] = img[-1, :] = 0
    img[:, 0] = img[:, -1] = 0  # the 1-pixel empty border
    thin = cv2.ximgproc.thinning(img * 255, thinningType=cv2.ximgproc.THINNING_ZHANGSUEN) // 255
    # components of the input and of its complement (fill regions around lines)
    name = f"c{len(cases)}"
    o.add(f"{name}.img", torch.from_numpy(img))
    o.add(f"{name}.thin", torch.from_numpy(thin.astype(np.uint8)))
    comp = (1 - img).astype(np.uint8)
    for key, m in (("img", img), ("comp", comp)):
        lab, count = canonical_labels(m)
        o.add(f"{name}.labels_{key}", torch.from_numpy(lab))
    o.meta(name, {"kind": kind, "shape": list(img.shape), "set": int(img.sum()), "thin": int(thin.sum())})
    cases.append(name)


for (h, w) in ((97, 130), (64, 64)):
    for ksize in (3, 5, 9, 15):
        for q in (0.3, 0.5, 0.7):
            add(blobs(h, w, ksize, q), f"blobs k{ksize} q{q}")
    for n in (3, 8):
        add(strokes(h, w, n), f"strokes {n}")
for (h, w) in ((5, 7), (31, 17), (3, 3), (120, 33)):
    add(blobs(h, w, 3, 0.4), "blobs small")
add(np.ones((12, 15), np.uint8), "full")
add(np.zeros((9, 8), np.uint8), "empty")

o.meta("cases", cases)
o.run("oracle_postprocess")
