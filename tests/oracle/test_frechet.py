"""SciPy / NumPy oracle for the Fréchet distance and KID (C++ side: tests/oracle_frechet.cpp).

  fid  vs pytorch-fid's calculate_frechet_distance: ‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr sqrtm(Σ₁Σ₂) with
       scipy.linalg.sqrtm (real part), means and covariances by numpy (np.cov, rowvar=False)
  kid  vs the unbiased polynomial-kernel MMD² of every row (one subset = the whole sets), numpy

Exit 77 (skipped) without scipy (Debian python3-scipy, installed by tools/setup).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle  # noqa: E402

try:
    import numpy as np
    from scipy import linalg
except ImportError:
    print("scipy not importable (apt: python3-scipy): oracle test skipped")
    sys.exit(77)

import torch  # noqa: E402

o = oracle.Oracle()
rng = np.random.default_rng(0)
cases = []


def fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def kid_all(a, b):
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3
    m = a.shape[0]
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    return float((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())


for n, d, shift, scale in [(200, 8, 0.0, 1.0), (300, 16, 0.5, 1.5), (64, 32, 2.0, 0.7), (500, 64, 0.1, 1.0)]:
    name = f"c{len(cases)}"
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    a = rng.normal(size=(n, d)) @ mix
    b = (rng.normal(size=(n, d)) * scale + shift) @ (mix + 0.3 * rng.normal(size=(d, d)) / np.sqrt(d))
    a, b = a.astype(np.float32), b.astype(np.float32)
    o.add(f"{name}.a", torch.from_numpy(a))
    o.add(f"{name}.b", torch.from_numpy(b))
    o.add(f"{name}.fid", torch.tensor([fid(a.astype(np.float64), b.astype(np.float64))], dtype=torch.float64))
    o.add(f"{name}.kid", torch.tensor([kid_all(a.astype(np.float64), b.astype(np.float64))], dtype=torch.float64))
    o.meta(name, {"n": n, "d": d})
    cases.append(name)
o.meta("cases", cases)
o.run("oracle_frechet")
