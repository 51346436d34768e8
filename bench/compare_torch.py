#!/usr/bin/env python3
"""Time the cases of bench/cases.json in PyTorch on the same device and print the ratio to
sakuga's Google Benchmark numbers.

    build/bench/sakuga_bench --benchmark_out=sakuga.json --benchmark_out_format=json
    python3 bench/compare_torch.py --sakuga-json sakuga.json --out bench/results/NAME.json

ratio = torch time / sakuga time: above 1 means sakuga is faster. On CPU both use the same
number of threads (--threads, default: all cores). On GPU, torch runs eager f32 with
TF32 allowed (sakuga's default precision); the GCN step comparison with channels_last + bf16
autocast lives in the gcn benchmarks.

Axial convolutions (k×1 / 1×k): a conv2d_fwd_bwd case that sakuga also ran as
"<case>/<device>/generic" (axial kernels off: cuDNN / im2col) gets that time in the row as
sakuga_generic_ms; "axial_parts" cases compare forward, backward data and backward filter one by
one ("<case>/<device>/<axial|generic>/<pass>" against the same pass in PyTorch, through
aten.convolution_backward with one output selected).
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def timeit(fn, device, min_time, warmup=2):
    for _ in range(warmup):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    n, start = 0, time.perf_counter()
    while True:
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and n >= 3:
            return elapsed / n * 1e3  # ms


def torch_case(c, device):
    op = c["op"]
    if op == "conv2d_fwd_bwd":
        x = torch.randn(c["x"], device=device, requires_grad=True)
        w = (0.05 * torch.randn(c["w"], device=device)).requires_grad_()
        pad = tuple(c.get("pad", [0, 0]))
        stride = tuple(c.get("stride", [1, 1]))
        gy = torch.randn_like(F.conv2d(x.detach(), w.detach(), None, stride, pad))

        def step():
            x.grad = None
            w.grad = None
            F.conv2d(x, w, None, stride, pad).backward(gy)
        return step
    if op == "axial_parts":
        raise ValueError("axial_parts cases are timed per pass (torch_part)")
    if op == "matmul":
        a = torch.randn(c["m"], c["k"], device=device)
        b = torch.randn(c["k"], c["n"], device=device)
        return lambda: a @ b
    if op in ("add", "relu"):
        a = torch.randn(c["n"], device=device)
        b = torch.randn(c["n"], device=device)
        return (lambda: a + b) if op == "add" else (lambda: torch.relu(a))
    if op == "adam_step":
        params = []
        for _ in range(c.get("repeat", 1)):
            for n in c["params"]:
                p = torch.randn(n, device=device, requires_grad=True)
                p.grad = torch.randn(n, device=device)
                params.append(p)
        # foreach=True is PyTorch's multi-tensor path (the fair comparison for a fused update).
        opt = torch.optim.Adam(params, lr=1e-3, foreach=True)
        return opt.step
    raise ValueError(f"unknown op {op}")


AXIAL_PASSES = ("fwd", "bwd_data", "bwd_filter")


def torch_part(c, device, part):
    """One pass of a conv (stride 1, the case's padding) in PyTorch."""
    x = torch.randn(c["x"], device=device)
    w = 0.05 * torch.randn(c["w"], device=device)
    pad = list(c.get("pad", [0, 0]))
    gy = torch.randn_like(F.conv2d(x, w, None, 1, pad))
    if part == "fwd":
        def step():
            with torch.no_grad():
                F.conv2d(x, w, None, 1, pad)
        return step
    mask = [part == "bwd_data", part == "bwd_filter", False]
    return lambda: torch.ops.aten.convolution_backward(gy, x, w, None, [1, 1], pad, [1, 1], False, [0, 0], 1, mask)


def git_commit():
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True).strip()
    except Exception:
        return "unknown"


def driver_version():
    try:
        return subprocess.check_output(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                       text=True, stderr=subprocess.DEVNULL).strip().splitlines()[0]
    except Exception:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sakuga-json", required=True, help="Google Benchmark JSON from sakuga_bench")
    ap.add_argument("--out", help="write the comparison here (bench/results/...)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    ap.add_argument("--device", choices=["cpu", "cuda"], help="only this device's rows (default: both)")
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds of timed calls per case (default 0.5)")
    ap.add_argument("--commit", help="the commit sakuga_bench was built from (default: git rev-parse here)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    with open(os.path.join(HERE, "cases.json")) as f:
        cases = json.load(f)["cases"]
    with open(args.sakuga_json) as f:
        sk = json.load(f)
    sakuga_ms = {}
    for b in sk["benchmarks"]:
        if b.get("error_occurred"):
            print(f'sakuga_bench: {b["name"]}: {b.get("error_message", "error")}')
            continue
        name = b["name"].split("/real_time")[0]
        unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        sakuga_ms[name] = b["real_time"] * unit

    rows = []
    for c in cases:
        if args.filter not in c["name"]:
            continue
        devices = [d for d in c["devices"] if args.device in (None, d)]
        if c["op"] == "axial_parts":
            for dev in devices:
                if dev == "cuda" and not torch.cuda.is_available():
                    continue
                for part in AXIAL_PASSES:
                    ka, kg = f'{c["name"]}/{dev}/axial/{part}', f'{c["name"]}/{dev}/generic/{part}'
                    if ka not in sakuga_ms:
                        continue
                    t = timeit(torch_part(c, dev, part), dev, args.min_time)
                    row = {"case": c["name"], "device": dev, "pass": part, "sakuga_ms": sakuga_ms[ka],
                           "sakuga_generic_ms": sakuga_ms.get(kg), "torch_ms": t,
                           "ratio_torch_over_sakuga": t / sakuga_ms[ka]}
                    rows.append(row)
                    gen = f'{sakuga_ms[kg]:10.3f}' if kg in sakuga_ms else '       n/a'
                    print(f'{c["name"] + "/" + dev + "/" + part:44s} axial {sakuga_ms[ka]:10.3f} ms   '
                          f'generic {gen} ms   torch {t:10.3f} ms   torch/axial {t / sakuga_ms[ka]:6.2f}', flush=True)
            continue
        for dev in devices:
            key = f'{c["name"]}/{dev}'
            if key not in sakuga_ms or (dev == "cuda" and not torch.cuda.is_available()):
                continue
            t = timeit(torch_case(c, dev), dev, args.min_time)
            row = {"case": c["name"], "device": dev, "sakuga_ms": sakuga_ms[key], "torch_ms": t,
                   "ratio_torch_over_sakuga": t / sakuga_ms[key]}
            gkey = key + "/generic"  # the same case with the axial kernels off
            if gkey in sakuga_ms:
                row["sakuga_generic_ms"] = sakuga_ms[gkey]
            rows.append(row)
            extra = f'   (generic {sakuga_ms[gkey]:10.3f} ms)' if gkey in sakuga_ms else ''
            print(f'{key:36s} sakuga {sakuga_ms[key]:10.3f} ms   torch {t:10.3f} ms   '
                  f'torch/sakuga {t / sakuga_ms[key]:6.2f}{extra}', flush=True)

    # sakuga's own benchmarks that have no PyTorch twin here (bench/bench_*.cpp), kept as measured.
    compared = {r["case"] + "/" + r["device"] for r in rows}
    only_sakuga = [{"name": n, "sakuga_ms": ms} for n, ms in sakuga_ms.items()
                   if not any(n == c or n.startswith(c + "/") for c in compared)]
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": args.commit or git_commit(),
        "device": gpu or platform.processor() or platform.machine(),
        "cpu_threads": args.threads,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "driver": driver_version(),
        "context": sk.get("context", {}),
        "results": rows,
        "sakuga_only": only_sakuga,
    }
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
