#!/usr/bin/env python3
"""Merge the whole-step benchmark of one GPU run into one file for bench/results/.

    gpu_results.py train --sakuga SAKUGA.json --torch TORCH.json [TORCH2.json ...] \\
                   --commit C --out bench/results/<device>-<date>-gcn-train.json

SAKUGA.json is `sakuga bench train --json`; each TORCH.json is bench/torch_gcn_train.py --modes
... --json. Missing torch files (a stage that did not run) are left out. The result holds the
device, date and commit, sakuga's step and every PyTorch mode with torch/sakuga (above 1 =
sakuga faster). Standard library only.
"""
import argparse
import datetime
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["train"])
    ap.add_argument("--sakuga", required=True)
    ap.add_argument("--torch", nargs="*", default=[])
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    s = None  # sakuga's step: absent when its stage did not finish
    if os.path.exists(a.sakuga):
        with open(a.sakuga) as f:
            s = json.load(f)
    torch_runs = []
    for path in a.torch:
        if os.path.exists(path):
            with open(path) as f:
                torch_runs.append(json.load(f))
    if s is None and not torch_runs:
        print("gpu_results: nothing to merge (no sakuga or torch result)")
        return 1
    cfg = (s or {}).get("config") or torch_runs[0].get("config", {})
    result = {
        "what": "GCN training step (forward, loss, backward, Adam) on synthetic batches",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": a.commit,
        "device": s["device"] if s else torch_runs[0].get("device"),
        "task": s["task"] if s else torch_runs[0].get("task"),
        "model": {k: cfg.get("model", {}).get(k) for k in ("backbone", "k", "classes", "dropout")},
        "data": {"size": cfg.get("data", {}).get("size"), "batch": cfg.get("data", {}).get("batch")},
        "sakuga": None,
        "torch": [],
    }
    if s:
        result["sakuga"] = dict({k: s[k] for k in ("ms_per_step", "images_per_s", "peak_bytes", "steps", "warmup")},
                                precision=s.get("precision", "default (tf32 on the GPU, fp32 on the CPU)"))
    for t in torch_runs:
        result["torch_version"] = t.get("version")
        for m in t.get("modes", []):
            row = dict(m, steps=t.get("steps"), warmup=t.get("warmup"))
            if m.get("ms_per_step") and s:
                row["ratio_torch_over_sakuga"] = m["ms_per_step"] / s["ms_per_step"]
            result["torch"].append(row)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
