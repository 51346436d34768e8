#!/usr/bin/env python3
"""Compare the first training step of `sakuga train` on the GPU with the same step on the CPU.

    gpu_first_step.py --case NAME CPU.safetensors GPU-FP32.safetensors GPU-TF32.safetensors \\
                      [--case ...] [--json OUT]

Each file is a `--dump-first-step` dump (input, target, logits, loss and every parameter
gradient, f32). The CPU run is the reference. Per tensor: relative error ||gpu - cpu|| / ||cpu||
(L2 over all elements). Bounds:

  fp32  1e-3   both sides are f32 with different summation orders (cuDNN / cuBLASLt / the
               hand-written kernels against im2col + OpenBLAS): each is within ~1e-4 of a float64
               truth at this step (tests/oracle/test_gcn_train.py), so 1e-3 leaves a 5x margin;
  tf32  2e-2   conv and GEMM operands rounded to a 10-bit mantissa (≈ 5e-4 relative per product)
               through ~50 layers forward and back, BatchNorm's backward amplifying it.

The input and target must be bit-identical (the same batch on both devices), otherwise the
comparison means nothing. A tensor whose reference is ~0 (RMS < 1e-9) is reported by its largest
absolute difference and not bounded. NaN or Inf fails. Exit 1 on any failure. Needs numpy only.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

BOUNDS = {"fp32": 1e-3, "tf32": 2e-2}
NEAR_ZERO_RMS = 1e-9
_NP = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    """{name: array} of a safetensors file (BF16 widened to f32)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        lo, hi = info["data_offsets"]
        raw = data[8 + n + lo:8 + n + hi]
        if info["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype=_NP[info["dtype"]])
        out[name] = a.reshape(info["shape"])
    return out


def compare(ref, got, bound):
    """(rows, failures): one row per tensor."""
    rows, failures = [], []
    if set(ref) != set(got):
        failures.append(f"tensor names differ: only CPU {sorted(set(ref) - set(got))[:5]}, "
                        f"only GPU {sorted(set(got) - set(ref))[:5]}")
        return rows, failures
    for name in ("input", "target"):
        if name in ref and not np.array_equal(ref[name], got[name]):
            failures.append(f"{name} differs: the two runs did not see the same batch")
    for name in sorted(ref):
        if name in ("input", "target"):
            continue
        r = ref[name].astype(np.float64).ravel()
        g = got[name].astype(np.float64).ravel()
        row = {"tensor": name, "numel": int(r.size)}
        if r.shape != g.shape:
            failures.append(f"{name}: shape {got[name].shape} vs {ref[name].shape}")
            continue
        if not np.all(np.isfinite(g)):
            row["error"] = math.inf
            failures.append(f"{name}: NaN or Inf on the GPU")
        elif math.sqrt(np.mean(r * r)) < NEAR_ZERO_RMS:
            row["near_zero"] = True
            row["max_abs_diff"] = float(np.max(np.abs(g - r))) if r.size else 0.0
        else:
            row["error"] = float(np.linalg.norm(g - r) / np.linalg.norm(r))
            if not row["error"] <= bound:
                failures.append(f"{name}: relative error {row['error']:.3e} > {bound:.0e}")
        rows.append(row)
    return rows, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", nargs=4, action="append", required=True, metavar=("NAME", "CPU", "FP32", "TF32"))
    ap.add_argument("--json", help="write every tensor's error here")
    a = ap.parse_args()

    report = {"bounds": BOUNDS, "cases": []}
    worst = {p: (0.0, "") for p in BOUNDS}
    all_failures = []
    for name, cpu, fp32, tf32 in a.case:
        case = {"name": name, "runs": {}}
        report["cases"].append(case)
        if not os.path.exists(cpu):
            print(f"  FAIL {name}: no CPU dump {cpu} (the run failed)")
            all_failures.append(f"{name}: no CPU dump")
            continue
        ref = read_safetensors(cpu)
        for prec, path in (("fp32", fp32), ("tf32", tf32)):
            if not os.path.exists(path):
                print(f"  FAIL {name} {prec}: no dump {path} (the run failed)")
                all_failures.append(f"{name} {prec}: no dump")
                continue
            rows, failures = compare(ref, read_safetensors(path), BOUNDS[prec])
            bounded = [r for r in rows if "error" in r]
            w = max(bounded, key=lambda r: r["error"]) if bounded else {"tensor": "-", "error": 0.0}
            if w["error"] >= worst[prec][0]:
                worst[prec] = (w["error"], f"{name}/{w['tensor']}")
            pick = {r["tensor"]: r.get("error") for r in rows if r["tensor"] in ("logits", "loss")}
            print(f"{name} {prec}: {len(rows)} tensors, worst {w['tensor']} {w['error']:.2e} (bound {BOUNDS[prec]:.0e}); "
                  f"logits {pick.get('logits', float('nan')):.2e}, loss {pick.get('loss', float('nan')):.2e}; "
                  f"{sum('near_zero' in r for r in rows)} near-zero")
            for f in failures:
                print(f"  FAIL {name} {prec}: {f}")
            all_failures += [f"{name} {prec}: {f}" for f in failures]
            case["runs"][prec] = {"file": path, "tensors": rows, "failures": failures}
    report["failures"] = all_failures
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    verdict = "FAILED: " + "; ".join(all_failures[:3]) if all_failures else "ok"
    print(f"worst fp32 {worst['fp32'][0]:.2e} ({worst['fp32'][1]}, bound {BOUNDS['fp32']:.0e}), "
          f"tf32 {worst['tf32'][0]:.2e} ({worst['tf32'][1]}, bound {BOUNDS['tf32']:.0e}): {verdict}")
    return 1 if all_failures else 0


if __name__ == "__main__":
    sys.exit(main())
