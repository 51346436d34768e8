"""SciPy / OpenCV oracle for the redraw Poisson blend (C++ side: tests/oracle_blend.cpp).

Exact cases ("kind": "spsolve"): the 4-neighbour system of kernels/blend.h built with
scipy.sparse — for every mask pixel p, |N(p)| f_p - sum of f_q over mask neighbours =
sum over N(p) of (patch_p - patch_q) + frame_q over neighbours outside the mask, N(p) the
neighbours inside the image (absent beyond the border) — and solved by
scipy.sparse.linalg.spsolve in float64. sakuga's CPU (and, with a GPU, CUDA) result must be
within 1/255 of it everywhere; the C++ side prints the max difference. Images: uniform noise and
smooth content, 37x45 to 64x80, masks of thresholded blurred noise (irregular, several
components, some on the image border), a one-pixel mask and a mask on all four borders.

Sanity case ("kind": "opencv"): cv2.seamlessClone(NORMAL_CLONE) on a smooth elliptical mask
(8-bit images). OpenCV solves its own variant (a DST solve over the mask's bounding box with the
guidance field masked at the border, 8-bit output), so this is a bound on the mean difference,
not an equality: the C++ side checks the mean |sakuga - OpenCV| inside the mask below
`mean_bound` grey levels and prints mean and max; this script prints OpenCV against the exact
solution for comparison.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

try:
    import cv2  # noqa: E402
    import scipy.sparse  # noqa: E402
    import scipy.sparse.linalg  # noqa: E402
except ImportError:
    print("cv2 or scipy not importable: oracle test skipped")
    sys.exit(77)
import numpy as np  # noqa: E402
import torch  # noqa: E402

o = oracle.Oracle()
rng = np.random.default_rng(2026)
cases = []


def exact_blend(frame, patch, mask):
    """frame, patch (C, H, W) float64, mask (H, W) bool -> the exact discrete solution."""
    C, H, W = frame.shape
    ids = -np.ones((H, W), np.int64)
    ys, xs = np.nonzero(mask)
    n = len(ys)
    ids[ys, xs] = np.arange(n)
    rows, cols, vals = [], [], []
    diag = np.zeros(n)
    rhs = np.zeros((C, n))
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        qy, qx = ys + dy, xs + dx
        ok = (qy >= 0) & (qy < H) & (qx >= 0) & (qx < W)
        k = np.nonzero(ok)[0]
        qy, qx = qy[ok], qx[ok]
        diag[k] += 1
        rhs[:, k] += patch[:, ys[k], xs[k]] - patch[:, qy, qx]
        inside = mask[qy, qx]
        rows += list(k[inside])
        cols += list(ids[qy[inside], qx[inside]])
        vals += [-1.0] * int(inside.sum())
        out = ~inside
        rhs[:, k[out]] += frame[:, qy[out], qx[out]]
    A = scipy.sparse.csr_matrix((vals + list(diag), (rows + list(range(n)), cols + list(range(n)))), shape=(n, n))
    result = frame.copy()
    for c in range(C):
        result[c, ys, xs] = scipy.sparse.linalg.spsolve(A.tocsc(), rhs[c])
    return result


def blob_mask(h, w, ksize, quantile):
    noise = rng.random((h, w)).astype(np.float32)
    b = cv2.GaussianBlur(noise, (ksize, ksize), 0)
    return b > np.quantile(b, quantile)


def smooth_image(h, w, c=3, noise=0.05):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((c, h, w))
    for k in range(c):
        fy, fx, ph = rng.uniform(0.02, 0.15, 2).tolist() + [rng.uniform(0, 6)]
        out[k] = 0.5 + 0.3 * np.sin(fy * y + ph) * np.cos(fx * x) + noise * rng.standard_normal((h, w))
    return out


def add_exact(frame, patch, mask, what):
    name = f"c{len(cases)}"
    o.add(f"{name}.frame", torch.from_numpy(frame.astype(np.float32)))
    o.add(f"{name}.patch", torch.from_numpy(patch.astype(np.float32)))
    o.add(f"{name}.mask", torch.from_numpy(mask.astype(np.uint8)))
    # the solve of the float32 inputs sakuga sees
    want = exact_blend(frame.astype(np.float32).astype(np.float64), patch.astype(np.float32).astype(np.float64), mask)
    o.add(f"{name}.want", torch.from_numpy(want))
    o.meta(name, {"kind": "spsolve", "what": what, "shape": list(frame.shape), "unknowns": int(mask.sum())})
    cases.append(name)


for (h, w) in ((37, 45), (64, 80)):
    for ksize, q in ((5, 0.6), (9, 0.5), (15, 0.75)):
        m = blob_mask(h, w, ksize, q)
        add_exact(rng.random((3, h, w)), rng.random((3, h, w)), m, f"noise images, blobs k{ksize} q{q}")
        add_exact(smooth_image(h, w), smooth_image(h, w), m, f"smooth images, blobs k{ksize} q{q}")
one = np.zeros((20, 24), bool)
one[7, 11] = True
add_exact(rng.random((3, 20, 24)), rng.random((3, 20, 24)), one, "one pixel")
cross = np.zeros((30, 33), bool)
cross[14:17, :] = True
cross[:, 10:12] = True
add_exact(rng.random((3, 30, 33)), rng.random((3, 30, 33)), cross, "a cross on all four borders")
add_exact(rng.random((1, 25, 31)), rng.random((1, 25, 31)), blob_mask(25, 31, 7, 0.5), "one channel")

# OpenCV sanity case: 8-bit images, a smooth elliptical mask away from the border.
H, W = 120, 160
to8 = lambda a: np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)  # noqa: E731
frame8 = to8(smooth_image(H, W, noise=0.01))
patch8 = to8(smooth_image(H, W, noise=0.01) * 0.8 + 0.15)
ell = np.zeros((H, W), np.uint8)
cv2.ellipse(ell, (80, 60), (45, 30), 15, 0, 360, 255, -1)
ys, xs = np.nonzero(ell)
x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
center = (int(x0 + (x1 - x0) // 2), int(y0 + (y1 - y0) // 2))  # places the patch onto itself
hwc = lambda a: np.ascontiguousarray(a.transpose(1, 2, 0))  # noqa: E731
cv = cv2.seamlessClone(hwc(patch8), hwc(frame8), ell, center, cv2.NORMAL_CLONE).transpose(2, 0, 1)
exact = exact_blend(frame8 / 255.0, patch8 / 255.0, ell > 0)
inside = ell > 0
d = np.abs(cv.astype(np.float64) - exact * 255)[:, inside]
print(f"OpenCV seamlessClone(NORMAL_CLONE) vs the exact discrete solution inside the mask: "
      f"mean {d.mean():.2f}, max {d.max():.2f} grey levels")
name = f"c{len(cases)}"
o.add(f"{name}.frame", torch.from_numpy(frame8.astype(np.float32) / 255))
o.add(f"{name}.patch", torch.from_numpy(patch8.astype(np.float32) / 255))
o.add(f"{name}.mask", torch.from_numpy((ell > 0).astype(np.uint8)))
o.add(f"{name}.want", torch.from_numpy(cv.astype(np.float64) / 255))
o.meta(name, {"kind": "opencv", "what": "cv2.seamlessClone NORMAL_CLONE, ellipse 90x60 in 120x160",
              "mean_bound": 12.0, "opencv_vs_exact_mean": float(d.mean()), "opencv_vs_exact_max": float(d.max())})
cases.append(name)

o.meta("cases", cases)
o.run("oracle_blend")
