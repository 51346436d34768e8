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

    with open(a.sakuga) as f:
        s = json.load(f)
    cfg = s.get("config", {})
    result = {
        "what": "GCN training step (forward, loss, backward, Adam) on synthetic batches",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": a.commit,
        "device": s["device"],
        "task": s["task"],
        "model": {k: cfg.get("model", {}).get(k) for k in ("backbone", "k", "classes", "dropout")},
        "data": {"size": cfg.get("data", {}).get("size"), "batch": cfg.get("data", {}).get("batch")},
        "steps": s["steps"],
        "warmup": s["warmup"],
        "sakuga": dict({k: s[k] for k in ("ms_per_step", "images_per_s", "peak_bytes")},
                       precision=s.get("precision", "default (tf32 on the GPU, fp32 on the CPU)")),
        "torch": [],
    }
    for path in a.torch:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            t = json.load(f)
        result["torch_version"] = t.get("version")
        for m in t.get("modes", []):
            row = dict(m)
            if m.get("ms_per_step"):
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
