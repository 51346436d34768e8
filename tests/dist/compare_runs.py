#!/usr/bin/env python3
"""Compares two sakuga run folders: the logged training scalars of metrics.jsonl (step by step)
and every tensor of checkpoints/last.safetensors (weights, buffers, optimiser state).

  compare_runs.py RUN_A RUN_B --identical     bytes of the checkpoints equal, scalars equal
  compare_runs.py RUN_A RUN_B --rtol R        ||a - b|| <= R * ||a|| + 1e-7 per tensor (L2 norms), and
                                             |a - b| <= R * |a| for each logged scalar
  compare_runs.py DUMP_A DUMP_B --grads --rtol R   the grad.* tensors of two --dump-first-step files
  --skip PREFIX (repeatable): leave out checkpoint tensors whose names start with PREFIX
  --scalars-only: compare metrics.jsonl only
  --only PREFIX (repeatable, with --grads): compare just the gradients whose names start with PREFIX
  --scalar-rtol PREFIX=RTOL (repeatable): the bound for the scalars whose names start with PREFIX
  --init WEIGHTS: compare the weight updates (a - init) and (b - init) instead of the weights
                  (WEIGHTS: a --dump-first-step's .weights.safetensors; buffers are left out)

Prints the largest differences and exits 1 when a bound is broken. Needs only numpy."""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8,
          "BF16": np.uint16, "F16": np.float16}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[8 + n + a:8 + n + b]
        out[name] = np.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out, header.get("__metadata__", {})


def scalars(run):
    rows = {}
    with open(run + "/metrics.jsonl") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            for k, v in r.items():
                if k in ("step", "stage") or k.startswith("lr"):
                    continue
                rows[(r["step"], k)] = v
    return rows


def scalar_bound(name, rtol, overrides):
    """The bound for metric `name`: the RTOL of the longest PREFIX=RTOL override it starts with,
    else rtol."""
    best = None
    for o in overrides:
        prefix, value = o.split("=", 1)
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, float(value))
    return rtol if best is None else best[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--identical", action="store_true")
    ap.add_argument("--rtol", type=float, default=0.0)
    ap.add_argument("--grads", action="store_true")
    ap.add_argument("--skip", action="append", default=[])
    ap.add_argument("--scalars-only", action="store_true")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--init")
    ap.add_argument("--scalar-rtol", action="append", default=[], metavar="PREFIX=RTOL")
    args = ap.parse_args()
    ok = True

    if args.grads:
        ta, _ = load_safetensors(args.a)
        tb, _ = load_safetensors(args.b)
        all_grads = sorted(k for k in ta if k.startswith("grad."))
        if not all_grads or set(all_grads) != set(k for k in tb if k.startswith("grad.")):
            print("FAIL: the dumps hold different (or no) gradients")
            return 1
        names = [k for k in all_grads if not args.only or any(k.startswith(p) for p in args.only)]
        ok = compare_tensors(ta, tb, names, args.rtol, False)
        print("OK" if ok else "FAIL")
        return 0 if ok else 1

    sa, sb = scalars(args.a), scalars(args.b)
    if set(sa) != set(sb):
        print(f"FAIL: metrics.jsonl keys differ: only in A {sorted(set(sa) - set(sb))[:5]}, "
              f"only in B {sorted(set(sb) - set(sa))[:5]}")
        ok = False
    worst_s = (0.0, None)
    for key in sorted(set(sa) & set(sb)):
        d = abs(sa[key] - sb[key])
        rel = d / max(abs(sa[key]), 1e-12)
        if rel > worst_s[0]:
            worst_s = (rel, key)
        bound = 0.0 if args.identical else scalar_bound(key[1], args.rtol, args.scalar_rtol)
        if rel > bound:
            ok = False
    print(f"scalars: {len(sa)} values, largest relative difference {worst_s[0]:.3g} at {worst_s[1]}")
    if args.scalars_only:
        print("OK" if ok else "FAIL")
        return 0 if ok else 1

    ta, _ = load_safetensors(args.a + "/checkpoints/last.safetensors")
    tb, _ = load_safetensors(args.b + "/checkpoints/last.safetensors")
    if set(ta) != set(tb):
        print(f"FAIL: checkpoint tensors differ: {sorted(set(ta) ^ set(tb))[:5]}")
        ok = False
    names = sorted(k for k in set(ta) & set(tb) if not any(k.startswith(p) for p in args.skip))
    if args.init:
        # Adam moves every weight by about ±lr whatever its gradient's size, so its weights are
        # compared through their updates: a wrong gradient changes the update by its own size.
        t0, _ = load_safetensors(args.init)
        names = [k for k in names if k in t0 and "running_" not in k and "num_batches" not in k]
        if not names:
            print("FAIL: no weight of the checkpoints is in --init")
            return 1
        ta = {k: ta[k].astype(np.float64) - t0[k].astype(np.float64) for k in names}
        tb = {k: tb[k].astype(np.float64) - t0[k].astype(np.float64) for k in names}
        num = sum(float(np.linalg.norm(ta[k] - tb[k])) ** 2 for k in names)
        den = sum(float(np.linalg.norm(ta[k])) ** 2 for k in names)
        overall = (num / max(den, 1e-30)) ** 0.5
        print(f"updates: all weights together differ by {overall:.3g} of their norm")
        ok = overall <= args.rtol and ok
    ok = compare_tensors(ta, tb, names, args.rtol, args.identical) and ok
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


def compare_tensors(ta, tb, names, rtol, identical):
    ok = True
    worst = (0.0, None)
    for k in names:
        x, y = ta[k], tb[k]
        if x.shape != y.shape or x.dtype != y.dtype:
            print(f"FAIL: {k}: {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
            ok = False
            continue
        if identical:
            if x.tobytes() != y.tobytes():
                print(f"FAIL: {k}: bytes differ")
                ok = False
            continue
        if x.dtype == np.uint16:  # bf16: compare the bits as they are
            x, y = x.astype(np.float64), y.astype(np.float64)
        # L2 norms: a max-pool window whose maximum changes place under a last-bit difference
        # sends one gradient element elsewhere; that moves the norm little, the maximum a lot.
        xf, yf = x.astype(np.float64).ravel(), y.astype(np.float64).ravel()
        scale = float(np.linalg.norm(xf))
        d = float(np.linalg.norm(xf - yf))
        rel = d / max(scale, 1e-12)
        if rel > worst[0]:
            worst = (rel, k)
        if d > rtol * scale + 1e-7:
            print(f"FAIL: {k}: ||a-b|| {d:.3g} > {rtol} x ||a|| {scale:.3g}")
            ok = False
    what = "byte-identical" if identical and ok else f"largest relative difference {worst[0]:.3g} at {worst[1]}"
    print(f"tensors: {len(names)} compared, {what}")
    return ok


if __name__ == "__main__":
    sys.exit(main())
