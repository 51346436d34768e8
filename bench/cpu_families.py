#!/usr/bin/env python3
"""Every family's training step against its PyTorch twin, on this machine's CPU, as one JSON.

    /usr/bin/python3 bench/cpu_families.py --out bench/results/NAME.json [--samples 3] [--steps 10]

For each (family, stage) it runs `build/sakuga bench train FAMILY [--stage S] --json s.json` and
then the twin `bench/torch_<family>_train.py --sakuga-json s.json` (same config, same threads,
OpenBLAS kernels as sakuga's: bench/twin.py), `--samples` times back to back, and records every
sample and the median ratio torch/sakuga (above 1: sakuga faster). Medians, because a shared VM
drifts by tens of percent between samples; the spread is in the JSON too.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (family, stage or None, twin script)
CASES = [
    ("cel", None, "torch_gcn_train.py"),
    ("douga", None, "torch_gcn_train.py"),
    ("gadn", None, "torch_gadn_train.py"),
    ("scenimefy", None, "torch_scenimefy_train.py"),
    ("redraw", "detect", "torch_redraw_train.py"),
    ("redraw", "encoder", "torch_redraw_train.py"),
    ("redraw", "redrawer", "torch_redraw_train.py"),
]


def cpu_name():
    """'Intel(R) Xeon(R) Processor (model 207)' from /proc/cpuinfo, or the platform's name."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                info.setdefault(k.strip(), v.strip())
    except OSError:
        pass
    name = info.get("model name") or platform.processor() or "cpu"
    return f"{name} (model {info['model']})" if "model" in info else name


def run_json(cmd, path):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    with open(path) as f:
        return json.load(f)


def sample(sakuga, family, stage, twin, steps, tmp):
    s_json, t_json = os.path.join(tmp, "s.json"), os.path.join(tmp, "t.json")
    cmd = [sakuga, "bench", "train", family] + (["--stage", stage] if stage else []) + ["--steps", str(steps), "--json", s_json]
    s = run_json(cmd, s_json)
    twin_cmd = [sys.executable, os.path.join(ROOT, "bench", twin), "--sakuga-json", s_json, "--json", t_json]
    if twin == "torch_gcn_train.py":  # the GCN twin takes the task and its own step count and threads
        twin_cmd += [family, "--steps", str(steps), "--threads", str(s["threads"])]
    t = run_json(twin_cmd, t_json)
    rows = []
    for st in t.get("stages", [dict(t, stage="train", sakuga_ms_per_step=t.get("sakuga_ms_per_step"))]):
        if "ratio_torch_over_sakuga" not in st:
            continue  # a twin-only variant (e.g. scenimefy's reference structure)
        rows.append({"stage": st["stage"], "sakuga_ms": st["sakuga_ms_per_step"], "torch_ms": st["ms_per_step"],
                     "ratio": st["ratio_torch_over_sakuga"]})
    return s, t, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--sakuga", default=os.path.join(ROOT, "build", "sakuga"))
    ap.add_argument("--only", help="only families whose name contains this")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    results, first = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for family, stage, twin in CASES:
            if a.only and a.only not in family:
                continue
            for k in range(a.samples):
                s, t, rows = sample(a.sakuga, family, stage, twin, a.steps, tmp)
                first.setdefault("sakuga", s)
                first.setdefault("torch", t)
                for r in rows:
                    key = f"{family}/{stage or r['stage']}"
                    results.setdefault(key, []).append(r)
                    print(f"{key:20s} sample {k + 1}: sakuga {r['sakuga_ms']:8.1f} ms  torch {r['torch_ms']:8.1f} ms"
                          f"  torch/sakuga {r['ratio']:.2f}", flush=True)
    summary = {}
    for key, rs in results.items():
        summary[key] = {
            "sakuga_ms_median": statistics.median(r["sakuga_ms"] for r in rs),
            "torch_ms_median": statistics.median(r["torch_ms"] for r in rs),
            "ratio_median": statistics.median(r["ratio"] for r in rs),
            "ratio_min": min(r["ratio"] for r in rs),
            "ratio_max": max(r["ratio"] for r in rs),
        }
        print(f"{key:20s} median torch/sakuga {summary[key]['ratio_median']:.2f}"
              f" ({summary[key]['ratio_min']:.2f}-{summary[key]['ratio_max']:.2f})")
    s0, t0 = first.get("sakuga", {}), first.get("torch", {})
    out = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "device": f"{cpu_name()}, {os.cpu_count()} CPUs; sakuga OpenBLAS kernels {s0.get('blas_core')}, "
                  f"PyTorch {t0.get('version')} with OPENBLAS_CORETYPE {t0.get('openblas_coretype')}",
        "threads": s0.get("threads"),
        "command": f"/usr/bin/python3 bench/cpu_families.py --samples {a.samples} --steps {a.steps}",
        "note": a.note,
        "summary": summary,
        "samples": results,
    }
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", a.out)


if __name__ == "__main__":
    main()
